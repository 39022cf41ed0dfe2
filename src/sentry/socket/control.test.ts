import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as linuxerr from '../../abi/linux/errno.js';
import { SCM_CREDENTIALS, SCM_RIGHTS, SOL_SOCKET } from './abi.js';
import { ControlWriter, cmsgLen, cmsgSpace, parseControl } from './control.js';

/** cmsg builds one control message (header plus data, padded to alignment). */
function cmsg(level: number, type: number, data: number[], lenOverride?: number): Uint8Array {
  const b = new Uint8Array(cmsgSpace(4 * data.length));
  const dv = new DataView(b.buffer);
  dv.setUint32(0, lenOverride ?? cmsgLen(4 * data.length), true);
  dv.setInt32(8, level, true);
  dv.setInt32(12, type, true);
  data.forEach((v, i) => dv.setInt32(16 + 4 * i, v, true));
  return b;
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

test('parseControl collects descriptors across messages and reads credentials', () => {
  const c = parseControl(concat(cmsg(SOL_SOCKET, SCM_RIGHTS, [3, 4]), cmsg(99, 1, [7]),
    cmsg(SOL_SOCKET, SCM_CREDENTIALS, [10, 20, 30]), cmsg(SOL_SOCKET, SCM_RIGHTS, [5])));
  assert.deepEqual(c.fds, [3, 4, 5]);
  assert.deepEqual(c.creds, { pid: 10, uid: 20, gid: 30 });
  assert.deepEqual(parseControl(cmsg(SOL_SOCKET, SCM_RIGHTS, [])), { fds: null, creds: null });
});

test('parseControl rejects malformed control data with EINVAL', () => {
  const isEinval = (e: unknown) => e === linuxerr.EINVAL;
  assert.throws(() => parseControl(cmsg(SOL_SOCKET, SCM_RIGHTS, [1], 8)), isEinval, 'length below the header');
  assert.throws(() => parseControl(cmsg(SOL_SOCKET, SCM_RIGHTS, [1], 64)), isEinval, 'length past the end');
  assert.throws(() => parseControl(cmsg(SOL_SOCKET, SCM_CREDENTIALS, [1, 2])), isEinval, 'short credentials');
  assert.throws(() => parseControl(cmsg(SOL_SOCKET, 42, [1])), isEinval, 'unknown type');
  assert.throws(() => parseControl(cmsg(SOL_SOCKET, SCM_RIGHTS, new Array(254).fill(0))), isEinval, 'too many fds');
  assert.equal(parseControl(cmsg(SOL_SOCKET, SCM_RIGHTS, new Array(253).fill(0))).fds?.length, 253);
  // A trailing fragment shorter than a header is ignored.
  assert.deepEqual(parseControl(new Uint8Array(15)), { fds: null, creds: null });
});

test('ControlWriter truncates as Linux put_cmsg and scm_detach_fds do', () => {
  // Exactly a header: no descriptor fits.
  let w = new ControlWriter(16);
  assert.equal(w.rightsRoom(), 0);
  w.putRights([], 3);
  assert.equal(w.used, 0);
  assert.ok(w.truncated);
  // Room for one descriptor of three: cmsg_len 20, controllen 20.
  w = new ControlWriter(20);
  assert.equal(w.rightsRoom(), 1);
  w.putRights([9], 3);
  assert.equal(w.used, 20);
  assert.ok(w.truncated);
  assert.equal(new DataView(w.bytes().buffer).getUint32(0, true), 20);
  // Everything fits: padded space, not truncated.
  w = new ControlWriter(100);
  w.putRights([1, 2, 3], 3);
  assert.equal(w.used, cmsgSpace(12));
  assert.ok(!w.truncated);
  // Credentials cut short: the header says how much was written.
  w = new ControlWriter(20);
  w.putCreds({ pid: 1, uid: 2, gid: 3 });
  assert.ok(w.truncated);
  assert.equal(w.used, 20);
  assert.equal(new DataView(w.bytes().buffer).getUint32(0, true), 20);
  // Credentials then descriptors that no longer fit.
  w = new ControlWriter(40);
  w.putCreds({ pid: 1, uid: 2, gid: 3 });
  assert.equal(w.used, 32);
  assert.equal(w.rightsRoom(), 0);
  // No buffer at all.
  w = new ControlWriter(0);
  w.putCreds({ pid: 1, uid: 2, gid: 3 });
  assert.ok(w.truncated);
  assert.equal(w.used, 0);
});
