// The x86-64 syscall table: data only. Each family file (sys_*.ts) exports
// its entries; numbers no family claims return ENOSYS, logged once by name.

import { SYSCALL_NAMES } from '../../../abi/linux/sysno.js';
import type { SyscallEntries, SyscallEntry } from '../syscalls.js';
import { unimplemented } from '../syscalls.js';
import * as epoll from './sys_epoll.js';
import * as eventfd from './sys_eventfd.js';
import * as fd from './sys_fd.js';
import * as file from './sys_file.js';
import * as futex from './sys_futex.js';
import * as getdents from './sys_getdents.js';
import * as identity from './sys_identity.js';
import * as inotify from './sys_inotify.js';
import * as memfd from './sys_memfd.js';
import * as shm from './sys_shm.js';
import * as sem from './sys_sem.js';
import * as msg from './sys_msg.js';
import * as mq from './sys_mq.js';
import * as ns from './sys_ns.js';
import * as ioctl from './sys_ioctl.js';
import * as misc from './sys_misc.js';
import * as mmap from './sys_mmap.js';
import * as pipe from './sys_pipe.js';
import * as poll from './sys_poll.js';
import * as prctl from './sys_prctl.js';
import * as privileged from './sys_privileged.js';
import * as ptraceSys from './sys_ptrace.js';
import * as readWrite from './sys_read_write.js';
import * as rlimit from './sys_rlimit.js';
import * as sched from './sys_sched.js';
import * as signal from './sys_signal.js';
import * as socket from './sys_socket.js';
import * as stat from './sys_stat.js';
import * as thread from './sys_thread.js';
import * as time from './sys_time.js';
import * as timer from './sys_timer.js';
import * as timerfd from './sys_timerfd.js';
import * as tls from './sys_tls.js';
import * as xattr from './sys_xattr.js';

const FAMILIES: Record<string, SyscallEntries> = {
  fd: fd.syscalls, file: file.syscalls, futex: futex.syscalls, getdents: getdents.syscalls, identity: identity.syscalls, ioctl: ioctl.syscalls,
  misc: misc.syscalls, mmap: mmap.syscalls, pipe: pipe.syscalls, poll: poll.syscalls, prctl: prctl.syscalls,
  readWrite: readWrite.syscalls, rlimit: rlimit.syscalls, sched: sched.syscalls, signal: signal.syscalls,
  socket: socket.syscalls, stat: stat.syscalls, thread: thread.syscalls, time: time.syscalls, tls: tls.syscalls,
  eventfd: eventfd.syscalls, timer: timer.syscalls, timerfd: timerfd.syscalls,
  epoll: epoll.syscalls,
  privileged: privileged.syscalls,
  inotify: inotify.syscalls,
  xattr: xattr.syscalls,
  memfd: memfd.syscalls,
  shm: shm.syscalls,
  sem: sem.syscalls,
  msg: msg.syscalls,
  mq: mq.syscalls,
  ns: ns.syscalls,
  ptrace: ptraceSys.syscalls,
};

/** buildTable merges the family fragments; a number claimed twice is a build error. */
export function buildTable(families: Record<string, SyscallEntries>): SyscallEntry[] {
  const table: SyscallEntry[] = [];
  const owner: string[] = [];
  for (const [fam, entries] of Object.entries(families)) {
    for (const [k, e] of Object.entries(entries)) {
      const nr = Number(k);
      if (table[nr]) throw new Error(`syscall ${nr} (${e.name}) claimed by both ${owner[nr]} and ${fam}`);
      table[nr] = e;
      owner[nr] = fam;
    }
  }
  SYSCALL_NAMES.forEach((name, nr) => {
    if (name && !table[nr]) table[nr] = unimplemented(name);
  });
  return table;
}

/** SYSCALL_TABLE is indexed by syscall number. */
export const SYSCALL_TABLE: ReadonlyArray<SyscallEntry | undefined> = buildTable(FAMILIES);
