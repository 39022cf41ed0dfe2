// setns(2). The sandbox has one namespace of each type, so every
// namespace a process can name (through /proc/[pid]/ns/* or a pidfd) is the
// one it is already in: setns checks what Linux checks and changes nothing,
// but for a mount namespace, whose entry moves root and cwd to its root.
// unshare(2) stays unimplemented: new namespaces cannot be made.

import * as linuxerr from '../../../abi/linux/errno.js';
import { SYSNO } from '../../../abi/linux/sysno.js';
import { pidfdOf } from '../../fsimpl/pidfd/pidfd.js';
import { NsFile } from '../../fsimpl/procfs/ns.js';
import type { Task } from '../../kernel/task.js';
import { TaskState } from '../../kernel/task.js';
import type { SyscallArgs, SyscallEntries } from '../syscalls.js';
import { supported } from '../syscalls.js';

const CLONE_NEWTIME = 0x00000080;
const CLONE_NEWNS = 0x00020000;
const CLONE_NEWCGROUP = 0x02000000;
const CLONE_NEWUTS = 0x04000000;
const CLONE_NEWIPC = 0x08000000;
const CLONE_NEWUSER = 0x10000000;
const CLONE_NEWPID = 0x20000000;
const CLONE_NEWNET = 0x40000000;
const ALL_NS = CLONE_NEWTIME | CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER |
  CLONE_NEWPID | CLONE_NEWNET;
const CAP_SYS_CHROOT = 18;
const CAP_SYS_ADMIN = 21;

/** setns implements Linux syscall setns(2). */
export function setns(t: Task, a: SyscallArgs): number {
  const fd = a.int(0);
  const nstype = a.int(1);
  const f = t.fdTable.lookup(fd);
  if (!f) throw linuxerr.EBADF;
  let flags: number;
  if (f.impl instanceof NsFile) {
    flags = f.impl.ns.flag;
    if (nstype !== 0 && nstype !== flags) throw linuxerr.EINVAL;
  } else if (pidfdOf(f)) {
    // A pidfd names all of a process's namespaces; flags pick which to join.
    if (nstype === 0 || (nstype & ~ALL_NS)) throw linuxerr.EINVAL;
    flags = nstype;
  } else {
    throw linuxerr.EINVAL;
  }
  // A process cannot re-enter its own user namespace.
  if (flags & CLONE_NEWUSER) throw linuxerr.EINVAL;
  if (!t.creds.hasCap(CAP_SYS_ADMIN)) throw linuxerr.EPERM;
  if (flags & CLONE_NEWNS) {
    if (!t.creds.hasCap(CAP_SYS_CHROOT)) throw linuxerr.EPERM;
    for (const o of t.kernel.tasks.values()) {
      if (o !== t && o.fs === t.fs && o.state !== TaskState.Dead) throw linuxerr.EINVAL;
    }
    t.fs.root = t.fs.cwd = t.kernel.vfs.rootLoc;
  }
  return 0;
}

export const syscalls: SyscallEntries = {
  [SYSNO.setns]: supported('setns', setns),
};
