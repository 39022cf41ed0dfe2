import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as linuxerr from '../../../abi/linux/errno.js';
import { abstractAddress, autobindName, isAutobindRequest, parseUnixAddress } from './address.js';

const enc = new TextEncoder();

function sockaddr(path: string | Uint8Array, family = 1, extra = 0): Uint8Array {
  const p = typeof path === 'string' ? enc.encode(path) : path;
  const b = new Uint8Array(2 + p.length + extra);
  b[0] = family;
  b.set(p, 2);
  return b;
}

test('pathname addresses stop at the first NUL and report family + path + 1', () => {
  const a = parseUnixAddress(sockaddr('/tmp/s\0junk', 1, 10));
  assert.equal(a.kind, 'path');
  assert.equal(a.kind === 'path' && a.path, '/tmp/s');
  assert.equal(a.bytes.length, 2 + 6 + 1);
  assert.equal(a.bytes[a.bytes.length - 1], 0);
  // No terminating NUL within the length is fine too.
  const b = parseUnixAddress(sockaddr('rel'));
  assert.equal(b.bytes.length, 6);
});

test('abstract addresses keep every byte of the given length', () => {
  const x = parseUnixAddress(sockaddr(Uint8Array.of(0, 0x61, 0)));
  const y = parseUnixAddress(sockaddr(Uint8Array.of(0, 0x61)));
  assert.equal(x.kind, 'abstract');
  assert.equal(x.bytes.length, 5);
  assert.notEqual(x.kind === 'abstract' && x.name, y.kind === 'abstract' && y.name);
  assert.deepEqual(abstractAddress(enc.encode('abc')).bytes, Uint8Array.of(1, 0, 0, 0x61, 0x62, 0x63));
});

test('bad lengths and families are EINVAL; sun_family alone asks for autobind', () => {
  const isEinval = (e: unknown) => e === linuxerr.EINVAL;
  assert.throws(() => parseUnixAddress(Uint8Array.of(1, 0)), isEinval);
  assert.throws(() => parseUnixAddress(new Uint8Array(111).fill(0x61).fill(0, 1, 2).fill(1, 0, 1)), isEinval);
  assert.throws(() => parseUnixAddress(sockaddr('/x', 2)), isEinval);
  assert.ok(isAutobindRequest(Uint8Array.of(1, 0)));
  assert.ok(!isAutobindRequest(Uint8Array.of(2, 0)));
  assert.deepEqual(autobindName(0xabc), enc.encode('00abc'));
});
