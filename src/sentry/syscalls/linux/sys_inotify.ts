// inotify_init(2), inotify_init1(2), inotify_add_watch(2), inotify_rm_watch(2);
// the instances and event generation are in fsimpl/inotify.

import * as linuxerr from '../../../abi/linux/errno.js';
import * as linux from '../../../abi/linux/file.js';
import { SYSNO } from '../../../abi/linux/sysno.js';
import * as inotify from '../../fsimpl/inotify/inotify.js';
import { InotifyFile } from '../../fsimpl/inotify/inotify.js';
import type { Task } from '../../kernel/task.js';
import { FileDescription } from '../../vfs/file_description.js';
import { isDir } from '../../vfs/inode.js';
import { MAY_READ, checkAccess } from '../../vfs/permissions.js';
import type { SyscallArgs, SyscallEntries } from '../syscalls.js';
import { supported } from '../syscalls.js';
import { nofile } from './sys_pipe.js';

let nextIno = 1;

function create(t: Task, flags: number): number {
  if (flags & ~(inotify.IN_NONBLOCK | inotify.IN_CLOEXEC)) throw linuxerr.EINVAL;
  const f = new FileDescription(new InotifyFile(nextIno++), linux.O_RDONLY | (flags & inotify.IN_NONBLOCK),
    'anon_inode:inotify');
  try {
    return t.fdTable.newFD(f, (flags & inotify.IN_CLOEXEC) !== 0, 0, nofile(t));
  } finally {
    f.decRef();
  }
}

/** inotifyInit implements Linux syscall inotify_init(2). */
export function inotifyInit(t: Task): number {
  return create(t, 0);
}

/** inotifyInit1 implements Linux syscall inotify_init1(2). */
export function inotifyInit1(t: Task, a: SyscallArgs): number {
  return create(t, a.int(0));
}

function instance(t: Task, fd: number): InotifyFile {
  const f = t.fdTable.get(fd);
  if (!(f.impl instanceof InotifyFile)) throw linuxerr.EINVAL;
  return f.impl;
}

/** inotifyAddWatch implements Linux syscall inotify_add_watch(2). */
export function inotifyAddWatch(t: Task, a: SyscallArgs): number {
  const fd = a.int(0);
  const pathAddr = a.ptr(1);
  const mask = a.uint(2);
  const inst = instance(t, fd);
  if (!(mask & inotify.IN_ALL_EVENTS)) throw linuxerr.EINVAL;
  if ((mask & inotify.IN_MASK_ADD) && (mask & inotify.IN_MASK_CREATE)) throw linuxerr.EINVAL;
  const path = t.mm.copyInString(pathAddr);
  const loc = t.kernel.vfs.lookup(t, linux.AT_FDCWD, path, (mask & inotify.IN_DONT_FOLLOW) === 0);
  checkAccess(t.creds, loc.node, MAY_READ);
  if ((mask & inotify.IN_ONLYDIR) && !isDir(loc.node)) throw linuxerr.ENOTDIR;
  return inst.addWatch(loc.node, mask);
}

/** inotifyRmWatch implements Linux syscall inotify_rm_watch(2). */
export function inotifyRmWatch(t: Task, a: SyscallArgs): number {
  const fd = a.int(0);
  const wd = a.int(1);
  instance(t, fd).rmWatch(wd);
  return 0;
}

export const syscalls: SyscallEntries = {
  [SYSNO.inotify_init]: supported('inotify_init', inotifyInit),
  [SYSNO.inotify_init1]: supported('inotify_init1', inotifyInit1),
  [SYSNO.inotify_add_watch]: supported('inotify_add_watch', inotifyAddWatch),
  [SYSNO.inotify_rm_watch]: supported('inotify_rm_watch', inotifyRmWatch),
};
