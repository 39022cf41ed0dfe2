// Machine-wide syscalls: EPERM for a caller without the capability (what an
// unprivileged container process gets), ENOSYS for one with it.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as linuxerr from '../../../abi/linux/errno.js';
import { SYSNO } from '../../../abi/linux/sysno.js';
import { Credentials } from '../../kernel/creds.js';
import { args, fakeKernel, newProcess } from '../../kernel/testutil.js';
import type { Task } from '../../kernel/task.js';
import * as priv from './sys_privileged.js';

function setup(privileged: boolean): Task {
  const k = fakeKernel().kernel;
  const init = newProcess(k, 1, null);
  if (privileged) return init;
  const c = new Credentials();
  c.uid = c.euid = c.suid = c.fsuid = 65534;
  c.capEffective = c.capPermitted = 0n;
  return newProcess(k, 2, init.tg, c);
}

const call = (t: Task, nr: number, ...v: number[]) => priv.syscalls[nr].handler!(t, args(...v));

test('an unprivileged caller gets EPERM from every machine-wide call', () => {
  const t = setup(false);
  for (const name of ['mount', 'pivot_root', 'swapon', 'swapoff', 'init_module', 'finit_module', 'delete_module',
    'kexec_load', 'kexec_file_load', 'acct', 'vhangup', 'open_by_handle_at'] as const) {
    assert.throws(() => call(t, SYSNO[name]), (e) => e === linuxerr.EPERM, name);
  }
  assert.throws(() => call(t, SYSNO.umount2, 0, 0), (e) => e === linuxerr.EPERM);
  assert.throws(() => call(t, SYSNO.iopl, 3), (e) => e === linuxerr.EPERM);
  assert.throws(() => call(t, SYSNO.ioperm, 0x70, 2, 1), (e) => e === linuxerr.EPERM);
});

test('a privileged caller learns the call is missing (ENOSYS)', () => {
  const t = setup(true);
  assert.throws(() => call(t, SYSNO.mount), (e) => e === linuxerr.ENOSYS);
  assert.throws(() => call(t, SYSNO.init_module), (e) => e === linuxerr.ENOSYS);
  assert.throws(() => call(t, SYSNO.iopl, 3), (e) => e === linuxerr.ENOSYS);
});

test('argument checks Linux makes before the capability check', () => {
  const t = setup(false);
  assert.throws(() => call(t, SYSNO.umount2, 0, 0x100), (e) => e === linuxerr.EINVAL);
  assert.throws(() => call(t, SYSNO.iopl, 4), (e) => e === linuxerr.EINVAL);
  assert.throws(() => call(t, SYSNO.ioperm, 65535, 2, 1), (e) => e === linuxerr.EINVAL);
  // Level 0 and turning ports off change nothing: allowed to anyone.
  assert.equal(call(t, SYSNO.iopl, 0), 0);
  assert.equal(call(t, SYSNO.ioperm, 0x70, 2, 0), 0);
});
