// ioctl(2): the commands every file accepts (close-on-exec, non-blocking and
// async flags, and the regular-file queries), then the file's own ioctl.

import * as linux from '../../../abi/linux/file.js';
import * as linuxerr from '../../../abi/linux/errno.js';
import { SYSNO } from '../../../abi/linux/sysno.js';
import type { Task } from '../../kernel/task.js';
import type { FileDescription } from '../../vfs/file_description.js';
import type { SyscallArgs, SyscallEntries } from '../syscalls.js';
import { supported } from '../syscalls.js';
import { getFile } from './sys_read_write.js';

export const FIGETBSZ = 2;
export const FIONREAD = 0x541b;
export const FIONBIO = 0x5421;
export const FIONCLEX = 0x5450;
export const FIOCLEX = 0x5451;
export const FIOASYNC = 0x5452;
export const FIOQSIZE = 0x5460;

function setFlag(f: FileDescription, flag: number, on: boolean): void {
  f.flags = on ? f.flags | flag : f.flags & ~flag;
}

/** regularIoctl answers the queries Linux handles for regular files itself; null if cmd is not one. */
function regularIoctl(t: Task, f: FileDescription, cmd: number, arg: number): number | null {
  if (cmd !== FIONREAD && cmd !== FIGETBSZ && cmd !== FIOQSIZE) return null;
  const st = f.stat();
  const type = st.mode & linux.S_IFMT;
  switch (cmd) {
    case FIONREAD:
      if (type !== linux.S_IFREG) return null;
      t.mm.writeI32(arg, Math.max(-0x8000_0000, Math.min(0x7fff_ffff, st.size - f.offset)));
      return 0;
    case FIGETBSZ:
      t.mm.writeI32(arg, st.blksize);
      return 0;
    default:
      if (type !== linux.S_IFREG && type !== linux.S_IFDIR && type !== linux.S_IFLNK) throw linuxerr.ENOTTY;
      t.mm.writeU64(arg, st.size);
      return 0;
  }
}

/** ioctl implements Linux syscall ioctl(2). */
export function ioctl(t: Task, a: SyscallArgs): number | Promise<number> {
  const fd = a.int(0);
  const cmd = a.uint(1);
  const arg = a.ptr(2);
  const f = getFile(t, fd);
  switch (cmd) {
    case FIOCLEX:
      t.fdTable.setCloexec(fd, true);
      return 0;
    case FIONCLEX:
      t.fdTable.setCloexec(fd, false);
      return 0;
    case FIONBIO:
      setFlag(f, linux.O_NONBLOCK, t.mm.readI32(arg) !== 0);
      return 0;
    case FIOASYNC:
      setFlag(f, linux.O_ASYNC, t.mm.readI32(arg) !== 0);
      if (f.flags & linux.O_ASYNC) t.kernel.log.warnOnce('fioasync', 'O_ASYNC is recorded but SIGIO is not sent');
      return 0;
  }
  const r = regularIoctl(t, f, cmd, arg);
  if (r !== null) return r;
  if (f.impl.ioctl) return f.impl.ioctl(t, f, cmd, arg);
  throw linuxerr.ENOTTY;
}

export const syscalls: SyscallEntries = {
  [SYSNO.ioctl]: supported('ioctl', ioctl),
};
