import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as linuxerr from '../../../abi/linux/errno.js';
import { args, fakeKernel, newProcess } from '../../kernel/testutil.js';
import { membarrier } from './sys_sched.js';

test('membarrier: QUERY lists the commands; private barriers need registering', () => {
  const t = newProcess(fakeKernel().kernel, 1, null);
  const cmds = membarrier(t, args(0, 0));
  assert.equal(cmds & 1, 1); // GLOBAL
  assert.equal(cmds & (1 << 7), 0); // no rseq
  assert.throws(() => membarrier(t, args(8, 0)), linuxerr.EPERM);
  assert.equal(membarrier(t, args(16, 0)), 0); // REGISTER_PRIVATE_EXPEDITED
  assert.equal(membarrier(t, args(8, 0)), 0);
  assert.equal(membarrier(t, args(512, 0)), 16); // GET_REGISTRATIONS
  assert.throws(() => membarrier(t, args(8, 1)), linuxerr.EINVAL);
  assert.throws(() => membarrier(t, args(128, 0)), linuxerr.EINVAL);
  assert.throws(() => membarrier(t, args(3, 0)), linuxerr.EINVAL);
});
