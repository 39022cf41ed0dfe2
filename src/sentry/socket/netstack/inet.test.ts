import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as linuxerr from '../../../abi/linux/errno.js';
import { B4, stackPair } from '../../../netstack/testing/harness.js';
import type { Task } from '../../kernel/task.js';
import * as abi from '../abi.js';
import { encode } from './address.js';
import { InetSocket, IPPROTO_TCP } from './inet.js';

const creds = { fsuid: 0, fsgid: 0 };
const t = {} as Task; // TCP connect does not look at the task

/** errnoOf runs f and returns the errno it threw, or 0. */
function errnoOf(f: () => void): number {
  try {
    f();
    return 0;
  } catch (e) {
    if (e instanceof linuxerr.SyscallError) return e.errno;
    throw e;
  }
}

test('non-blocking connect over a link: EINPROGRESS, then 0 once established, then EISCONN', () => {
  // Every frame takes 1 ms: the handshake is still under way when connect returns.
  const p = stackPair({ filter: () => 1 });
  const listener = p.b.newTCPEndpoint(4);
  listener.bind({ addr: '', port: 6379 });
  listener.listen(4);
  const s = new InetSocket(creds, abi.AF_INET, abi.SOCK_STREAM, IPPROTO_TCP, 'tcp', p.a.newTCPEndpoint(4));
  const to = encode(abi.AF_INET, { addr: B4, port: 6379 });
  assert.equal(errnoOf(() => s.connect(t, to, true)), linuxerr.EINPROGRESS.errno);
  assert.equal(errnoOf(() => s.connect(t, to, true)), linuxerr.EALREADY.errno);
  p.clock.runUntil(() => listener.readiness(1) !== 0, 60_000);
  // hiredis and others call connect again after poll says writable.
  assert.equal(errnoOf(() => s.connect(t, to, true)), 0);
  assert.equal(errnoOf(() => s.connect(t, to, true)), linuxerr.EISCONN.errno);
});
