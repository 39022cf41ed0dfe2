// Syscalls that act on the machine rather than the process: mounts, kernel
// modules, kexec, I/O ports, swap, process accounting. A sandbox implements
// none of them, but an unprivileged caller must still get the EPERM Linux
// gives it (programs and container escape probes test exactly that); only a
// caller holding the capability learns that the call is missing (ENOSYS).

import * as linuxerr from '../../../abi/linux/errno.js';
import { SYSNO } from '../../../abi/linux/sysno.js';
import { CAP_SYS_ADMIN, CAP_SYS_BOOT } from '../../kernel/setid.js';
import type { Task } from '../../kernel/task.js';
import type { SyscallArgs, SyscallEntries } from '../syscalls.js';
import { partial } from '../syscalls.js';

const CAP_DAC_READ_SEARCH = 2;
const CAP_SYS_MODULE = 16;
const CAP_SYS_RAWIO = 17;
const CAP_SYS_PACCT = 20;
const CAP_SYS_TTY_CONFIG = 26;

// umount2 flags (include/linux/fs.h).
const MNT_FORCE = 1;
const MNT_DETACH = 2;
const MNT_EXPIRE = 4;
const UMOUNT_NOFOLLOW = 8;
/** Ports an ioperm bitmap covers. */
const IO_BITMAP_BITS = 65536;

/** missing: the caller is privileged enough; the call itself is not implemented. */
function missing(t: Task, name: string): never {
  t.kernel.log.warnOnce(`sys:${name}`, `unimplemented syscall ${name} (privileged caller)`);
  throw linuxerr.ENOSYS;
}

/** gated refuses callers without cap (Linux's first check), then reports the call missing. */
function gated(t: Task, cap: number, name: string): never {
  if (!t.creds.hasCap(cap)) throw linuxerr.EPERM;
  return missing(t, name);
}

/** mount implements Linux syscall mount(2): EPERM without CAP_SYS_ADMIN, else ENOSYS. */
export function mount(t: Task): number {
  return gated(t, CAP_SYS_ADMIN, 'mount');
}

/** pivotRoot implements Linux syscall pivot_root(2): EPERM without CAP_SYS_ADMIN, else ENOSYS. */
export function pivotRoot(t: Task): number {
  return gated(t, CAP_SYS_ADMIN, 'pivot_root');
}

/** swapon implements Linux syscall swapon(2): EPERM without CAP_SYS_ADMIN, else ENOSYS. */
export function swapon(t: Task): number {
  return gated(t, CAP_SYS_ADMIN, 'swapon');
}

/** swapoff implements Linux syscall swapoff(2): EPERM without CAP_SYS_ADMIN, else ENOSYS. */
export function swapoff(t: Task): number {
  return gated(t, CAP_SYS_ADMIN, 'swapoff');
}

/** initModule implements Linux syscall init_module(2): EPERM without CAP_SYS_MODULE, else ENOSYS. */
export function initModule(t: Task): number {
  return gated(t, CAP_SYS_MODULE, 'init_module');
}

/** finitModule implements Linux syscall finit_module(2): EPERM without CAP_SYS_MODULE, else ENOSYS. */
export function finitModule(t: Task): number {
  return gated(t, CAP_SYS_MODULE, 'finit_module');
}

/** deleteModule implements Linux syscall delete_module(2): EPERM without CAP_SYS_MODULE, else ENOSYS. */
export function deleteModule(t: Task): number {
  return gated(t, CAP_SYS_MODULE, 'delete_module');
}

/** kexecLoad implements Linux syscall kexec_load(2): EPERM without CAP_SYS_BOOT, else ENOSYS. */
export function kexecLoad(t: Task): number {
  return gated(t, CAP_SYS_BOOT, 'kexec_load');
}

/** kexecFileLoad implements Linux syscall kexec_file_load(2): EPERM without CAP_SYS_BOOT, else ENOSYS. */
export function kexecFileLoad(t: Task): number {
  return gated(t, CAP_SYS_BOOT, 'kexec_file_load');
}

/** acct implements Linux syscall acct(2): EPERM without CAP_SYS_PACCT, else ENOSYS. */
export function acct(t: Task): number {
  return gated(t, CAP_SYS_PACCT, 'acct');
}

/** vhangup implements Linux syscall vhangup(2): EPERM without CAP_SYS_TTY_CONFIG, else ENOSYS. */
export function vhangup(t: Task): number {
  return gated(t, CAP_SYS_TTY_CONFIG, 'vhangup');
}

/** openByHandleAt implements Linux syscall open_by_handle_at(2): EPERM without
 *  CAP_DAC_READ_SEARCH (the "shocker" escape forges a handle), else ENOSYS. */
export function openByHandleAt(t: Task): number {
  return gated(t, CAP_DAC_READ_SEARCH, 'open_by_handle_at');
}

/** umount2 implements Linux syscall umount2(2) for unprivileged callers (EINVAL/EPERM). */
export function umount2(t: Task, a: SyscallArgs): number {
  const flags = a.int(1);
  if (flags & ~(MNT_FORCE | MNT_DETACH | MNT_EXPIRE | UMOUNT_NOFOLLOW)) throw linuxerr.EINVAL;
  if (!t.creds.hasCap(CAP_SYS_ADMIN)) throw linuxerr.EPERM;
  return missing(t, 'umount2');
}

/** iopl implements Linux syscall iopl(2): level 0 (the current one) is a no-op. */
export function iopl(t: Task, a: SyscallArgs): number {
  const level = a.uint(0);
  if (level > 3) throw linuxerr.EINVAL;
  if (level === 0) return 0;
  if (!t.creds.hasCap(CAP_SYS_RAWIO)) throw linuxerr.EPERM;
  return missing(t, 'iopl');
}

/** ioperm implements Linux syscall ioperm(2): turning ports off is a no-op, none are on. */
export function ioperm(t: Task, a: SyscallArgs): number {
  const from = a.ptr(0);
  const num = a.ptr(1);
  const on = a.int(2);
  if (from + num <= from || from + num > IO_BITMAP_BITS) throw linuxerr.EINVAL;
  if (!on) return 0;
  if (!t.creds.hasCap(CAP_SYS_RAWIO)) throw linuxerr.EPERM;
  return missing(t, 'ioperm');
}

const NOT_IMPL = 'EPERM without the capability, else ENOSYS (not implemented).';

export const syscalls: SyscallEntries = {
  [SYSNO.mount]: partial('mount', mount, NOT_IMPL),
  [SYSNO.umount2]: partial('umount2', umount2, NOT_IMPL),
  [SYSNO.pivot_root]: partial('pivot_root', pivotRoot, NOT_IMPL),
  [SYSNO.swapon]: partial('swapon', swapon, NOT_IMPL),
  [SYSNO.swapoff]: partial('swapoff', swapoff, NOT_IMPL),
  [SYSNO.init_module]: partial('init_module', initModule, NOT_IMPL),
  [SYSNO.finit_module]: partial('finit_module', finitModule, NOT_IMPL),
  [SYSNO.delete_module]: partial('delete_module', deleteModule, NOT_IMPL),
  [SYSNO.kexec_load]: partial('kexec_load', kexecLoad, NOT_IMPL),
  [SYSNO.kexec_file_load]: partial('kexec_file_load', kexecFileLoad, NOT_IMPL),
  [SYSNO.iopl]: partial('iopl', iopl, NOT_IMPL),
  [SYSNO.ioperm]: partial('ioperm', ioperm, NOT_IMPL),
  [SYSNO.acct]: partial('acct', acct, NOT_IMPL),
  [SYSNO.vhangup]: partial('vhangup', vhangup, NOT_IMPL),
  [SYSNO.open_by_handle_at]: partial('open_by_handle_at', openByHandleAt, NOT_IMPL),
};
