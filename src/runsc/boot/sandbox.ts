// Sandbox boot for `runsc do`, inside the runsc process: builds the platform,
// the root file system view (Gofers), the kernel and the first process, and
// runs it to completion. (gVisor's runsc/boot Loader; OCI containers boot in
// container_boot.ts, in a process of their own.)

import { openSync } from 'node:fs';
import { PtracePlatform } from '../../platform/ptrace/ptrace.js';
import { native } from '../../platform/ptrace/native.js';
import { ENOENT } from '../../abi/linux/errno.js';
import { Kernel } from '../../sentry/kernel/kernel.js';
import { Log } from '../../sentry/kernel/log.js';
import { installSignals } from '../../sentry/kernel/signals.js';
import { newSandboxVFS } from '../../sentry/vfs/vfs.js';
import { spawnGofers } from '../../gofer/launcher.js';
import type { Config } from '../config/config.js';
import { hostRlimits } from './limits.js';
import { ExecFailure, startProcess } from './process.js';

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
  // The Sentry opens no host path: one Gofer process per mounted host tree
  // does. They start (a Node each) while the platform starts its master stub.
  const gofers = spawnGofers(spec.hostRoot, spec.volumes, (m) => log.warning(m));
  let platform: PtracePlatform;
  try {
    platform = new PtracePlatform();
    gofers.ready();
  } catch (e) {
    gofers.stop();
    throw e;
  }
  const vfs = newSandboxVFS({ hostRoot: gofers.hostRoot, volumes: gofers.volumes, host: gofers.host });
  const k = new Kernel({ platform, vfs, log, hostname: spec.hostname });
  installSignals(k);
  // PID 1 is made as for a container's init, with all capabilities (the
  // spec has none to restrict) and the caller's stdio as host-backed fds.
  let t;
  try {
    t = startProcess(k, { args: spec.argv, env: spec.envp, cwd: spec.cwd, user: { uid: 0, gid: 0 } },
      { init: true, rlimits, stdio: [0, 1, 2], ownFds: false, keepEnv: true });
  } catch (e) {
    platform.shutdown();
    gofers.stop();
    if (e instanceof ExecFailure) {
      process.stderr.write(`runsc: cannot execute ${spec.argv[0]}: ${e.err.message} (${e.err.name})\n`);
      return (e.err === ENOENT ? 127 : 126) << 8;
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
