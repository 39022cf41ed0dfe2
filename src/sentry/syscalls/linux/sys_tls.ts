// Thread-local storage and per-thread registrations: arch_prctl (fs/gs base),
// set_robust_list/get_robust_list.

import * as linuxerr from '../../../abi/linux/errno.js';
import { REG } from '../../../abi/linux/ptrace.js';
import { SYSNO } from '../../../abi/linux/sysno.js';
import { RegsDirty } from '../../../platform/platform.js';
import { CAP_SYS_PTRACE } from '../../kernel/setid.js';
import type { Task } from '../../kernel/task.js';
import type { SyscallArgs, SyscallEntries } from '../syscalls.js';
import { partial, supported } from '../syscalls.js';

export const ARCH_SET_GS = 0x1001;
export const ARCH_SET_FS = 0x1002;
export const ARCH_GET_FS = 0x1003;
export const ARCH_GET_GS = 0x1004;
export const ARCH_GET_CPUID = 0x1011;
export const ARCH_SET_CPUID = 0x1012;
export const ARCH_CET_STATUS = 0x3001;
/** TASK_SIZE_MAX: bases at or above it are refused (EPERM), as Linux does. */
const TASK_SIZE_MAX = 0x7fff_ffff_f000;
/** sizeof(struct robust_list_head). */
const ROBUST_LIST_HEAD_SIZE = 24;

/** arch_prctl implements Linux syscall arch_prctl(2). */
export function archPrctl(t: Task, a: SyscallArgs): number {
  const code = a.int(0);
  const addr = a.ptr(1);
  switch (code) {
    case ARCH_SET_FS:
    case ARCH_SET_GS:
      if (addr >= TASK_SIZE_MAX) throw linuxerr.EPERM;
      t.regs.set(code === ARCH_SET_FS ? REG.fs_base : REG.gs_base, addr);
      t.dirty = RegsDirty.All;
      return 0;
    case ARCH_GET_FS:
    case ARCH_GET_GS:
      t.mm.writeU64(addr, t.regs.get(code === ARCH_GET_FS ? REG.fs_base : REG.gs_base));
      return 0;
    case ARCH_GET_CPUID:
      return 1; // CPUID is enabled
    case ARCH_SET_CPUID:
      // CPUID faulting is not available to guests (a CPU without the feature).
      throw linuxerr.ENODEV;
    default:
      t.kernel.log.warnOnce(`arch_prctl:${code}`, `arch_prctl: unsupported code 0x${(code >>> 0).toString(16)}`);
      throw linuxerr.EINVAL;
  }
}

/** set_robust_list implements Linux syscall set_robust_list(2). */
export function setRobustList(t: Task, a: SyscallArgs): number {
  const head = a.ptr(0);
  const len = a.sizeT(1);
  if (len !== ROBUST_LIST_HEAD_SIZE) throw linuxerr.EINVAL;
  t.robustList = head;
  t.robustListLen = len;
  return 0;
}

/** get_robust_list implements Linux syscall get_robust_list(2). */
export function getRobustList(t: Task, a: SyscallArgs): number {
  const pid = a.int(0);
  const headPtr = a.ptr(1);
  const lenPtr = a.ptr(2);
  let target = t;
  if (pid !== 0) {
    const o = t.kernel.tasks.get(pid);
    if (!o) throw linuxerr.ESRCH;
    // ptrace-read access: same real ids, or CAP_SYS_PTRACE.
    const c = t.creds;
    const tc = o.creds;
    const same = c.uid === tc.euid && c.uid === tc.suid && c.uid === tc.uid &&
      c.gid === tc.egid && c.gid === tc.sgid && c.gid === tc.gid;
    if (!same && !c.hasCap(CAP_SYS_PTRACE)) throw linuxerr.EPERM;
    target = o;
  }
  t.mm.writeU64(lenPtr, ROBUST_LIST_HEAD_SIZE);
  t.mm.writeU64(headPtr, target.robustList);
  return 0;
}

export const syscalls: SyscallEntries = {
  [SYSNO.arch_prctl]: partial('arch_prctl', archPrctl, 'ARCH_SET_CPUID, CET and AMX permission codes unsupported.'),
  [SYSNO.set_robust_list]: supported('set_robust_list', setRobustList),
  [SYSNO.get_robust_list]: supported('get_robust_list', getRobustList),
};
