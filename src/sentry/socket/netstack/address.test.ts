import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as linuxerr from '../../../abi/linux/errno.js';
import { AF_INET, AF_INET6 } from '../abi.js';
import { encode, parseFor, parseIn, parseIn6 } from './address.js';

function sin(fam: number, port: number, a: number[]): Uint8Array {
  return Uint8Array.from([fam, 0, port >> 8, port & 0xff, ...a, 0, 0, 0, 0, 0, 0, 0, 0]);
}

test('sockaddr_in round trip', () => {
  const raw = sin(AF_INET, 8080, [127, 0, 0, 1]);
  const a = parseIn(raw);
  assert.equal(a.port, 8080);
  assert.equal(a.addr, '\x7f\0\0\x01');
  assert.deepEqual(encode(AF_INET, a), raw);
});

test('sockaddr_in errors', () => {
  assert.throws(() => parseIn(sin(AF_INET, 1, [1, 2, 3, 4]).subarray(0, 15)), (e) => e === linuxerr.EINVAL);
  assert.throws(() => parseIn(sin(AF_INET6, 1, [1, 2, 3, 4])), (e) => e === linuxerr.EAFNOSUPPORT);
  // AF_UNSPEC is accepted by bind only with INADDR_ANY.
  assert.equal(parseIn(sin(0, 5, [0, 0, 0, 0]), true).port, 5);
  assert.throws(() => parseIn(sin(0, 5, [1, 0, 0, 0]), true), (e) => e === linuxerr.EAFNOSUPPORT);
});

test('sockaddr_in6 round trip, short form and scope id', () => {
  const raw = new Uint8Array(28);
  raw[0] = AF_INET6;
  raw[2] = 0x1f;
  raw[3] = 0x90;
  raw[23] = 1;
  raw[24] = 3;
  const a = parseIn6(raw);
  assert.equal(a.port, 8080);
  assert.equal(a.addr, '\0'.repeat(15) + '\x01');
  assert.equal(a.nic, 3);
  assert.deepEqual(encode(AF_INET6, a), raw);
  assert.equal(parseIn6(raw.subarray(0, 24)).nic, undefined);
  assert.throws(() => parseIn6(raw.subarray(0, 23)), (e) => e === linuxerr.EINVAL);
});

test('a sockaddr_in to an AF_INET6 datagram socket becomes v4-mapped', () => {
  const a = parseFor(AF_INET6, sin(AF_INET, 53, [127, 0, 0, 1]), true);
  assert.equal(a.addr, '\0'.repeat(10) + '\xff\xff\x7f\0\0\x01');
  assert.throws(() => parseFor(AF_INET6, sin(AF_INET, 53, [127, 0, 0, 1])), (e) => e === linuxerr.EINVAL);
});
