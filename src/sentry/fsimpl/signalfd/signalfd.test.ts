import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as sig from '../../../abi/linux/signal.js';
import * as signals from '../../kernel/signals.js';
import { encodeSignalfdInfo } from './signalfd.js';

function fields(b: Uint8Array) {
  const v = new DataView(b.buffer);
  return {
    signo: v.getUint32(0, true), code: v.getInt32(8, true), pid: v.getUint32(12, true), uid: v.getUint32(16, true),
    status: v.getInt32(40, true), int: v.getInt32(44, true), ptr: v.getBigUint64(48, true), addr: v.getBigUint64(72, true),
  };
}

test('signalfd_siginfo: kill() and SIGCHLD layouts', () => {
  const k = fields(encodeSignalfdInfo(signals.userInfo(sig.SIGUSR1, 42, 1000)));
  assert.deepEqual([k.signo, k.code, k.pid, k.uid, k.status], [sig.SIGUSR1, signals.SI_USER, 42, 1000, 0]);
  const c = fields(encodeSignalfdInfo({ signo: sig.SIGCHLD, code: signals.CLD_EXITED, pid: 7, uid: 0, status: 3 }));
  assert.deepEqual([c.code, c.pid, c.status], [signals.CLD_EXITED, 7, 3]);
});

test('signalfd_siginfo: queued value and fault address', () => {
  const raw = new Uint8Array(128);
  const v = new DataView(raw.buffer);
  v.setInt32(8, signals.SI_QUEUE, true);
  v.setInt32(16, 5, true);
  v.setBigUint64(24, 0x1234n, true);
  const q = fields(encodeSignalfdInfo({ signo: 40, code: signals.SI_QUEUE, pid: 5, uid: 0, status: 0, raw }));
  assert.deepEqual([q.signo, q.pid, q.int, q.ptr], [40, 5, 0x1234, 0x1234n]);
  const f = new Uint8Array(128);
  const fv = new DataView(f.buffer);
  fv.setInt32(8, 1, true); // SEGV_MAPERR
  fv.setBigUint64(16, 0xdead000n, true);
  const s = fields(encodeSignalfdInfo({ signo: sig.SIGSEGV, code: 1, pid: 0, uid: 0, status: 0, raw: f }));
  assert.deepEqual([s.signo, s.code, s.addr, s.pid], [sig.SIGSEGV, 1, 0xdead000n, 0]);
});
