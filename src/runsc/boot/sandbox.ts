// The sandbox process of `runsc do` (`runsc sandbox`, run from the Sentry
// bundle): runsc (sandbox/do_sandbox.ts) starts it in namespaces of its own
// with its stdio, its Gofers' sockets and a spec; it starts the platform,
// confines itself (empty root, seccomp: confine.ts), builds the kernel and
// the first process, and runs it to completion. (gVisor's runsc/boot; OCI
// containers boot in container_boot.ts.)

import { closeSync, openSync, readFileSync } from 'node:fs';
import { PtracePlatform } from '../../platform/ptrace/ptrace.js';
import { ENOENT } from '../../abi/linux/errno.js';
import { Kernel } from '../../sentry/kernel/kernel.js';
import { testOnlyLimits } from '../../sentry/kernel/limits.js';
import { Log } from '../../sentry/kernel/log.js';
import { installSignals } from '../../sentry/kernel/signals.js';
import { newSandboxVFS } from '../../sentry/vfs/vfs.js';
import { GoferClient } from '../../sentry/fsimpl/gofer/client.js';
import { GoferHostFS } from '../../sentry/fsimpl/gofer/gofer_fs.js';
import type { BootSpec } from './boot_spec.js';
import { withHostRlimits } from './limits.js';
import { ExecFailure, startProcess } from './process.js';
import { confineSentry, prepareSentry } from './confine.js';
import { CLONE_NEWIPC, CLONE_NEWNET, CLONE_NEWUTS } from './launch.js';
import { forwardHostSignals, hostTtyKey } from './host_signals.js';
import { installGuestFiles } from './guest_network.js';
import { configureNetwork } from '../../sentry/socket/netstack/stack.js';
import { enableHostNetwork } from '../../sentry/socket/hostinet/hostinet.js';
import { exitCode } from '../sandbox/wait.js';

// Moved to runsc's side (the CLI bundle): sandbox/do_sandbox.ts and sandbox/wait.ts.
export type { SandboxSpec } from './boot_spec.js';

/** bootSandbox is the sandbox process (`runsc sandbox --spec-fd N`): it runs
 *  the command and returns its shell-style exit code. */
export async function bootSandbox(specFd: number): Promise<number> {
  const spec = JSON.parse(readFileSync(specFd, 'utf8')) as BootSpec;
  closeSync(specFd);
  // JSON has no Infinity (RLIM_INFINITY): it travels as -1.
  const rlimits = withHostRlimits(spec.rlimits.map((r) => r && [r[0] < 0 ? Infinity : r[0], r[1] < 0 ? Infinity : r[1]]));
  const conf = spec.conf;
  const log = new Log(spec.logFd, conf.debug, conf.strace);
  // /proc must name this PID namespace's processes before the stubs start.
  prepareSentry();
  // The stubs get network, IPC and UTS namespaces of their own on top of the
  // Sentry's: they need none, and with --network=host the Sentry's is the host's.
  const platform = new PtracePlatform({ stubNamespaces: CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS });
  const clients = spec.gofers.map((g) => ({
    hostPath: g.hostPath, client: new GoferClient(g.fd, g.hostPath, (why) => log.warning(`gofer for ${g.hostPath}: ${why}`)),
  }));
  for (const c of clients) {
    try {
      c.client.version();
    } catch {
      platform.shutdown();
      process.stderr.write(`runsc: the gofer for ${c.hostPath} did not start\n`);
      return 128;
    }
  }
  // From here on the Sentry opens no path.
  confineSentry({ noSeccomp: conf.noSeccomp, hostNetwork: conf.network === 'host' });
  testOnlyOpen(log);
  const vfs = newSandboxVFS({ hostRoot: spec.hostRoot, volumes: spec.volumes, host: new GoferHostFS(clients) });
  if (spec.files) installGuestFiles(vfs, spec.files, (m) => log.warning(m));
  const k = new Kernel({ platform, vfs, log, hostname: spec.hostname, ...testOnlyLimits(process.env) });
  installSignals(k);
  // The Sentry shares its caller's terminal (no setsid): ^C and ^\ typed
  // there arrive here too, and are the guest's to handle.
  const unforward = forwardHostSignals(k, hostTtyKey(0), ['SIGINT', 'SIGQUIT', 'SIGWINCH']);
  if (spec.network) configureNetwork(k, spec.network);
  if (conf.network === 'host') enableHostNetwork(k);
  // PID 1 is made as for a container's init, with all capabilities (the
  // spec has none to restrict) and the caller's stdio as host-backed fds.
  let t;
  try {
    t = startProcess(k, { args: spec.argv, env: spec.envp, cwd: spec.cwd, user: { uid: 0, gid: 0 } },
      { init: true, rlimits, stdio: [0, 1, 2], ownFds: false, keepEnv: true, netRaw: conf.netRaw });
  } catch (e) {
    unforward();
    platform.shutdown();
    if (e instanceof ExecFailure) {
      process.stderr.write(`runsc: cannot execute ${spec.argv[0]}: ${e.err.message} (${e.err.name})\n`);
      return e.err === ENOENT ? 127 : 126;
    }
    throw e;
  }
  k.makeReady(t);
  const status = await k.run();
  unforward();
  platform.shutdown();
  return exitCode(status);
}

/** testOnlyOpen tries, when TSVISOR_TESTONLY_SENTRY_OPEN names a path, to
 *  open it from the Sentry after confinement, and reports the outcome on
 *  stderr: the confinement tests prove the filter refuses it. */
function testOnlyOpen(log: Log): void {
  const p = process.env.TSVISOR_TESTONLY_SENTRY_OPEN;
  if (!p) return;
  let outcome: string;
  try {
    closeSync(openSync(p, 'r'));
    outcome = 'opened';
  } catch (e) {
    outcome = (e as NodeJS.ErrnoException).code ?? String(e);
  }
  log.warning(`TESTONLY sentry open(${p}): ${outcome}`);
  process.stderr.write(`runsc: TESTONLY sentry open(${p}): ${outcome}\n`);
}

