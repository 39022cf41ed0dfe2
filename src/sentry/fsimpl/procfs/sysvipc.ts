// /proc/sysvipc/{shm,sem,msg} (ipcs reads them) and the IPC sysctls, in
// Linux's formats (ipc/{shm,sem,msg}.c's sysvipc_*_proc_show).

import type { Kernel } from '../../kernel/kernel.js';
import { MSGMAX, MSGMNB, MSGMNI, msgQueues } from '../../syscalls/linux/sys_msg.js';
import { SEMMNI, SEMMNS, SEMMSL, SEMOPM, semSets } from '../../syscalls/linux/sys_sem.js';
import { shmSegments } from '../../syscalls/linux/sys_shm.js';
import { DFLT_MSGMAX, DFLT_MSGSIZEMAX, DFLT_QUEUESMAX } from '../mqueue/mqueue.js';
import type { Caller } from '../../vfs/inode.js';
import type { Spec } from './synthetic.js';
import { file, sysctl } from './synthetic.js';
import { callerTask } from './task.js';

const r = (v: number | bigint, w: number) => String(v).padStart(w);
const o = (v: number) => (v & 0xffff).toString(8).padStart(4);

function kernelOf(c: Caller): Kernel {
  return callerTask(c).kernel;
}

function shmText(k: Kernel): string {
  let s = '       key      shmid perms                  size  cpid  lpid nattch   uid   gid  cuid  cgid      atime' +
    '      dtime      ctime                   rss                  swap\n';
  for (const { seg: x, nattch } of shmSegments(k)) {
    const rss = Math.ceil(x.size / 4096) * 4096;
    s += `${r(x.key, 10)} ${r(x.id, 10)}  ${o(x.mode)} ${r(x.size, 21)} ${r(x.cpid, 5)} ${r(x.lpid, 5)}  ` +
      `${r(nattch, 5)} ${r(x.uid, 5)} ${r(x.gid, 5)} ${r(x.cuid, 5)} ${r(x.cgid, 5)} ${r(x.atime, 10)} ` +
      `${r(x.dtime, 10)} ${r(x.ctime, 10)} ${r(rss, 21)} ${r(0, 21)}\n`;
  }
  return s;
}

function semText(k: Kernel): string {
  let s = '       key      semid perms      nsems   uid   gid  cuid  cgid      otime      ctime\n';
  for (const x of semSets(k)) {
    s += `${r(x.key, 10)} ${r(x.id, 10)}  ${o(x.mode)} ${r(x.vals.length, 10)} ${r(x.uid, 5)} ${r(x.gid, 5)} ` +
      `${r(x.cuid, 5)} ${r(x.cgid, 5)} ${r(x.otime, 10)} ${r(x.ctime, 10)}\n`;
  }
  return s;
}

function msgText(k: Kernel): string {
  let s = '       key      msqid perms      cbytes       qnum lspid lrpid   uid   gid  cuid  cgid      stime      rtime' +
    '      ctime\n';
  for (const x of msgQueues(k)) {
    s += `${r(x.key, 10)} ${r(x.id, 10)}  ${o(x.mode)}  ${r(x.cbytes, 10)} ${r(x.messages.length, 10)} ` +
      `${r(x.lspid, 5)} ${r(x.lrpid, 5)} ${r(x.uid, 5)} ${r(x.gid, 5)} ${r(x.cuid, 5)} ${r(x.cgid, 5)} ` +
      `${r(x.stime, 10)} ${r(x.rtime, 10)} ${r(x.ctime, 10)}\n`;
  }
  return s;
}

/** sysvipcTable is /proc/sysvipc. */
export const sysvipcTable: Record<string, Spec> = {
  msg: file((c) => msgText(kernelOf(c))),
  sem: file((c) => semText(kernelOf(c))),
  shm: file((c) => shmText(kernelOf(c))),
};

/** kernelIpcSysctls are /proc/sys/kernel's IPC limits (read-only here). */
export const kernelIpcSysctls: Record<string, Spec> = {
  msgmax: sysctl(() => `${MSGMAX}\n`),
  msgmnb: sysctl(() => `${MSGMNB}\n`),
  msgmni: sysctl(() => `${MSGMNI}\n`),
  sem: sysctl(() => `${SEMMSL}\t${SEMMNS}\t${SEMOPM}\t${SEMMNI}\n`),
};

/** mqueueSysctls is /proc/sys/fs/mqueue. */
export const mqueueSysctls: Record<string, Spec> = {
  msg_default: sysctl(() => `${DFLT_MSGMAX}\n`),
  msg_max: sysctl(() => `${DFLT_MSGMAX}\n`),
  msgsize_default: sysctl(() => `${DFLT_MSGSIZEMAX}\n`),
  msgsize_max: sysctl(() => `${DFLT_MSGSIZEMAX}\n`),
  queues_max: sysctl(() => `${DFLT_QUEUESMAX}\n`),
};
