// Sandbox boot, inside the runsc process for now: builds the platform, the
// root file system view, the kernel and the first process, and runs it to
// completion. (gVisor's runsc/boot Loader; issues to come move the Sentry and
// the Gofer into processes of their own.)

import { openSync } from 'node:fs';
import { isatty } from 'node:tty';
import { PtracePlatform } from '../../platform/ptrace/ptrace.js';
import { native } from '../../platform/ptrace/native.js';
import { SIGCHLD } from '../../abi/linux/signal.js';
import * as linux from '../../abi/linux/file.js';
import { Credentials } from '../../sentry/kernel/creds.js';
import { FDTable } from '../../sentry/kernel/fd_table.js';
import { Kernel } from '../../sentry/kernel/kernel.js';
import { Log } from '../../sentry/kernel/log.js';
import { Task } from '../../sentry/kernel/task.js';
import { execve } from '../../sentry/kernel/task_exec.js';
import { ThreadGroup, newSigactions } from '../../sentry/kernel/thread_group.js';
import { hostRlimits } from './limits.js';
import { installSignals } from '../../sentry/kernel/signals.js';
import { MemoryManager } from '../../sentry/mm/mm.js';
import { newHostFD } from '../../sentry/fsimpl/host/host_fd.js';
import { FSContext } from '../../sentry/vfs/fs_context.js';
import { newSandboxVFS } from '../../sentry/vfs/vfs.js';
import { startGofers } from '../../gofer/launcher.js';
import { SyscallError } from '../../abi/linux/errno.js';
import type { Config } from '../config/config.js';

export interface SandboxSpec {
  argv: string[];
  envp: string[];
  cwd: string;
  hostRoot: string;
  volumes: { hostPath: string; guestPath: string; readonly: boolean }[];
  hostname: string;
}

/** openLog returns the fd debug and strace lines go to. */
function openLog(conf: Config): number {
  if (conf.debugLog) return openSync(conf.debugLog, 'a');
  return 2;
}

/** runSandbox runs spec's command and resolves with its wait status. */
export async function runSandbox(conf: Config, spec: SandboxSpec): Promise<number> {
  const log = new Log(openLog(conf), conf.debug, conf.strace);
  const rlimits = hostRlimits(); // before the Sentry raises its own
  native.setNofile(1 << 20);
  const platform = new PtracePlatform();
  // The Sentry opens no host path: one Gofer process per mounted host tree does.
  const gofers = startGofers(spec.hostRoot, spec.volumes, (m) => log.warning(m));
  const vfs = newSandboxVFS({ hostRoot: gofers.hostRoot, volumes: gofers.volumes, host: gofers.host });
  const k = new Kernel({ platform, vfs, log, hostname: spec.hostname });
  installSignals(k);
  const thread = platform.newAddressSpace();
  const tg = new ThreadGroup(k.allocTid(), null, newSigactions(), rlimits, SIGCHLD);
  k.init = tg;
  k.threadGroups.set(tg.pid, tg);
  const t = new Task(k, tg.pid, tg, thread, new MemoryManager(thread.as), new FDTable(), new FSContext(), new Credentials());
  tg.leader = t;
  tg.tasks.add(t);
  k.tasks.set(t.tid, t);
  vfs.initFSContext(t.fs, spec.cwd);
  for (const fd of [0, 1, 2]) {
    const tty = isatty(fd);
    const flags = tty ? linux.O_RDWR : fd === 0 ? linux.O_RDONLY : linux.O_WRONLY;
    const file = newHostFD(fd, flags, { isStdio: true });
    t.fdTable.setAt(fd, file, false);
    file.decRef();
  }
  try {
    execve(t, spec.argv[0], spec.argv, spec.envp);
  } catch (e) {
    platform.shutdown();
    gofers.stop();
    if (e instanceof SyscallError) {
      process.stderr.write(`runsc: cannot execute ${spec.argv[0]}: ${e.message} (${e.name})\n`);
      return (e.errno === 2 ? 127 : 126) << 8;
    }
    throw e;
  }
  k.makeReady(t);
  const status = await k.run();
  platform.shutdown();
  gofers.stop();
  return status;
}

/** exitCode turns a wait status into a shell-style exit code. */
export function exitCode(status: number): number {
  const sig = status & 0x7f;
  return sig ? 128 + sig : (status >> 8) & 0xff;
}
