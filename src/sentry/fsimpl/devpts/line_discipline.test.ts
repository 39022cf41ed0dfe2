import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LineDiscipline } from './line_discipline.js';
import * as T from './termios.js';
import { Termios } from './termios.js';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const dec = (b: Uint8Array): string => new TextDecoder().decode(b);

function readStr(ld: LineDiscipline, max = 100): string | number {
  const buf = new Uint8Array(max);
  const n = ld.read(buf);
  return n < 0 ? n : dec(buf.subarray(0, n));
}

test('canonical editing, echo and ONLCR', () => {
  const ld = new LineDiscipline({ signal: () => {} });
  ld.receive(enc('ab\x7fc\r'));
  assert.equal(dec(ld.out.takeAll()), 'ab\b \bc\r\n');
  assert.equal(readStr(ld), 'ac\n');
  assert.equal(readStr(ld), -1);
  ld.receive(enc('x\x04'));
  assert.equal(readStr(ld), 'x');
  ld.receive(enc('\x04'));
  assert.equal(readStr(ld), '');
});

test('ISIG sends the signal and flushes', () => {
  const sigs: number[] = [];
  const ld = new LineDiscipline({ signal: (s) => sigs.push(s) });
  ld.receive(enc('abc\x03'));
  assert.deepEqual(sigs, [2]);
  assert.equal(ld.inputAvailable(), 0);
  assert.equal(dec(ld.out.takeAll()), '^C');
  ld.receive(enc('\x1c\x1a'));
  assert.deepEqual(sigs, [2, 3, 20]);
});

test('raw mode keeps bytes and mode switches move input', () => {
  const ld = new LineDiscipline({ signal: () => {} });
  ld.receive(enc('par'));
  ld.out.clear();
  const raw = new Termios();
  raw.decode(ld.termios.encode());
  raw.lflag &= ~(T.ICANON | T.ECHO);
  raw.iflag = 0;
  ld.setTermios(raw);
  assert.equal(ld.inputAvailable(), 3);
  ld.receive(enc('\r'));
  assert.equal(readStr(ld), 'par\r');
  ld.output(enc('a\n'));
  assert.equal(dec(ld.out.takeAll()), 'a\r\n');
});
