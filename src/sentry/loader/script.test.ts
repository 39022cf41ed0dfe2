import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as linuxerr from '../../abi/linux/errno.js';
import { BINPRM_BUF_SIZE, parseShebang } from './script.js';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

test('interpreter and optional argument', () => {
  assert.deepEqual(parseShebang(enc('#!/bin/sh\necho hi\n')), { interp: '/bin/sh', arg: null });
  assert.deepEqual(parseShebang(enc('#! /bin/sh -e\n')), { interp: '/bin/sh', arg: '-e' });
  assert.deepEqual(parseShebang(enc('#!\t/usr/bin/env  python3 -u  \t\nx')), { interp: '/usr/bin/env', arg: 'python3 -u' });
  assert.deepEqual(parseShebang(enc('#!/bin/sh')), { interp: '/bin/sh', arg: null });
  assert.deepEqual(parseShebang(enc('#!/bin/sh   \n')), { interp: '/bin/sh', arg: null });
});

test('lines Linux refuses are ENOEXEC', () => {
  assert.throws(() => parseShebang(enc('#!\n')), linuxerr.ENOEXEC);
  assert.throws(() => parseShebang(enc('#!   \t \n')), linuxerr.ENOEXEC);
  assert.throws(() => parseShebang(enc('#x/bin/sh\n')), linuxerr.ENOEXEC);
  // An interpreter path that runs past the buffer may be truncated: refused.
  assert.throws(() => parseShebang(enc('#!/' + 'a'.repeat(BINPRM_BUF_SIZE))), linuxerr.ENOEXEC);
});

test('a long line without newline is cut at the buffer when the name fits', () => {
  const long = '#!/bin/sh ' + 'x'.repeat(400);
  const r = parseShebang(enc(long));
  assert.equal(r.interp, '/bin/sh');
  assert.equal(r.arg, 'x'.repeat(BINPRM_BUF_SIZE - 1 - 10));
});

test('a NUL ends the strings', () => {
  assert.deepEqual(parseShebang(enc('#!/bin/sh\0junk\n')), { interp: '/bin/sh', arg: null });
  assert.deepEqual(parseShebang(enc('#!/bin/sh a\0b\n')), { interp: '/bin/sh', arg: 'a' });
});
