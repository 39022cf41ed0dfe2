// Sandbox boot for `runsc do`. runsc (the caller's process) starts the
// Gofers and the sandbox process, each in namespaces of its own
// (launch.ts), hands the sandbox its stdio, its Gofer sockets and a spec,
// then waits for it and relays signals. The sandbox process (`runsc sandbox`,
// bootSandbox below) is the Sentry: it starts the platform, confines itself
// (empty root, seccomp: confine.ts), builds the kernel and the first process,
// and runs it to completion. (gVisor's runsc/sandbox and runsc/boot; OCI
// containers boot in container_boot.ts.)

import { closeSync, openSync, readFileSync, writeSync } from 'node:fs';
import { isatty } from 'node:tty';
import { PtracePlatform } from '../../platform/ptrace/ptrace.js';
import { check, distEntry, native } from '../../platform/ptrace/native.js';
import { ENOENT } from '../../abi/linux/errno.js';
import { Kernel } from '../../sentry/kernel/kernel.js';
import { testOnlyLimits } from '../../sentry/kernel/limits.js';
import { Log } from '../../sentry/kernel/log.js';
import { installSignals } from '../../sentry/kernel/signals.js';
import type { Rlimits } from '../../sentry/kernel/thread_group.js';
import { newSandboxVFS } from '../../sentry/vfs/vfs.js';
import type { VolumeSpec } from '../../sentry/vfs/vfs.js';
import { GoferClient } from '../../sentry/fsimpl/gofer/client.js';
import { GoferHostFS } from '../../sentry/fsimpl/gofer/gofer_fs.js';
import { spawnGofers } from '../../gofer/launcher.js';
import type { Config } from '../config/config.js';
import { hostRlimits } from './limits.js';
import { ExecFailure, startProcess } from './process.js';
import { confineSentry, prepareSentry } from './confine.js';
import { SENTRY_NODE_ARGS } from '../loader/bundle_script.js';
import { CLONE_NEWIPC, CLONE_NEWNET, CLONE_NEWUTS, launch } from './launch.js';
import { forwardHostSignals, hostTtyKey } from './host_signals.js';
import { debugLogger, installGuestFiles, setupDoNetwork } from './network.js';
import type { DoNetwork, GuestFile } from './network.js';
import { configureNetwork } from '../../sentry/socket/netstack/stack.js';
import { enableHostNetwork } from '../../sentry/socket/hostinet/hostinet.js';
import type { NetworkConfig } from '../../sentry/socket/netstack/stack.js';

export interface SandboxSpec {
  argv: string[];
  envp: string[];
  cwd: string;
  hostRoot: string;
  volumes: VolumeSpec[];
  hostname: string;
  /** ip is the sandbox's IPv4 address with --network=sandbox (do --ip). */
  ip?: string;
}

/** BootSpec is what runsc hands the sandbox process (as JSON in a memfd). */
interface BootSpec extends SandboxSpec {
  conf: Config;
  rlimits: Rlimits;
  /** gofers: the host tree each Gofer serves and its socket's fd number in the sandbox. */
  gofers: { hostPath: string; fd: number }[];
  logFd: number;
  /** network is the link runsc made (--network=sandbox), its fds numbered as in the sandbox. */
  network?: NetworkConfig;
  /** files: /etc files for the sandbox's network (network.ts guestFiles), written into its root's upper layer. */
  files?: GuestFile[];
}

const SPEC_FD = 3;
const LOG_FD = 4;
const FIRST_GOFER_FD = 5;
const WNOHANG = 1;

/** openLog returns the fd debug and strace lines go to. */
function openLog(conf: Config): number {
  if (conf.debugLog) return openSync(conf.debugLog, 'a');
  return 2;
}

/** memfdWith returns a memfd holding text (read by the sandbox process at start). */
function memfdWith(text: string): number {
  const MFD_CLOEXEC = 1;
  const fd = check('memfd_create', native.memfdCreate('tsvisor-spec', MFD_CLOEXEC));
  writeSync(fd, text, 0, 'utf8');
  return fd;
}

/** RELAYED are the signals runsc passes on to the sandbox process. Terminal
 *  signals (SIGINT, SIGQUIT) reach it from the terminal directly when there
 *  is one: relaying them too would deliver them twice. */
function relayed(): NodeJS.Signals[] {
  const s: NodeJS.Signals[] = ['SIGTERM', 'SIGHUP', 'SIGUSR1', 'SIGUSR2'];
  // isatty, not process.stdin: that would make Node open (and set O_NONBLOCK on) the guest's stdin.
  if (!isatty(0)) s.push('SIGINT', 'SIGQUIT');
  return s;
}

/** runSandbox runs spec's command in a sandbox process and resolves with its exit code. */
export async function runSandbox(conf: Config, spec: SandboxSpec): Promise<number> {
  const rlimits = hostRlimits(); // before raising our own: the guest gets the caller's
  native.setNofile(1 << 20); // inherited by the sandbox, which may not raise it in its user namespace
  const gofers = spawnGofers(spec.hostRoot, spec.volumes, (m) => process.stderr.write(`runsc: ${m}\n`),
    { rootless: conf.rootless, noSeccomp: conf.noSeccomp });
  const logFd = openLog(conf);
  const net = sandboxLink(conf, spec.ip);
  const netFd = FIRST_GOFER_FD + gofers.procs.length;
  const boot: BootSpec = {
    network: net?.sentryConfig(netFd), files: net?.guestFiles(spec.hostname, spec.hostRoot),
    ...spec, hostRoot: gofers.hostRoot, volumes: gofers.volumes, conf, logFd: LOG_FD,
    rlimits: rlimits.map(([c, m]) => [c === Infinity ? -1 : c, m === Infinity ? -1 : m]),
    gofers: gofers.procs.map((p, i) => ({ hostPath: p.root, fd: FIRST_GOFER_FD + i })),
  };
  const specFd = memfdWith(JSON.stringify(boot));
  let pid: number;
  try {
    const entry = distEntry('runsc.mjs', 'runsc/main.js');
    pid = launch({
      kind: 'sentry', path: process.execPath,
      argv: [process.execPath, ...SENTRY_NODE_ARGS, ...(process.env.TSVISOR_SENTRY_NODE_ARGS?.split(' ').filter(Boolean) ?? []), entry, 'sandbox', '--spec-fd', String(SPEC_FD)],
      // TZ: with none, glibc would open /etc/localtime when a log line is
      // stamped, after the Sentry has given up opening files.
      env: ['TZ=UTC', ...['TSVISOR_SECCOMP_LEARN', 'TSVISOR_TESTONLY_SENTRY_OPEN', 'TSVISOR_TESTONLY_MEMORY_LIMIT', 'TSVISOR_TESTONLY_MAX_TASKS', 'TSVISOR_TESTONLY_MAX_FILES'].filter((k) => process.env[k]).map((k) => `${k}=${process.env[k]}`)],
      fds: [0, 1, 2, specFd, logFd, ...gofers.procs.map((p) => p.client.fd), ...(net ? [net.fd] : [])],
      hostNetwork: conf.network === 'host', dieWithParent: true, rootless: conf.rootless,
    });
  } catch (e) {
    gofers.stop();
    throw e;
  } finally {
    closeSync(specFd);
    if (logFd !== 2) closeSync(logFd);
    net?.closeHostFd(); // the device lives as long as the sandbox's copy
  }
  // The sandbox holds the Gofers' sockets now: they end when it does.
  for (const p of gofers.procs) p.client.close();
  const status = await waitFor(pid);
  net?.release(); // the NAT rules (the TAP went with the sandbox)
  gofers.stop();
  const sig = status & 0x7f;
  return sig ? 128 + sig : (status >> 8) & 0xff;
}

/** sandboxLink makes the host link of --network=sandbox: a TAP device the
 *  Sentry's netstack drives (network.ts). It takes host root; without it,
 *  or if it fails, the sandbox has loopback only. */
function sandboxLink(conf: Config, ip?: string): DoNetwork | null {
  if (conf.network !== 'sandbox') return null;
  if (conf.rootless || process.getuid?.() !== 0) {
    if (ip) process.stderr.write('runsc: warning: --ip needs host root for the sandbox\'s link; loopback only\n');
    return null;
  }
  try {
    return setupDoNetwork({ ip: ip || undefined, debug: debugLogger(conf) });
  } catch (e) {
    process.stderr.write(`runsc: warning: --network=sandbox: no host link (${(e as Error).message}); loopback only\n`);
    return null;
  }
}

/** waitFor relays signals to pid (a child) until it exits, and resolves with its wait status. */
export function waitFor(pid: number): Promise<number> {
  return new Promise((resolve) => {
    const st = new Int32Array(1);
    const sigs = relayed();
    // With a terminal, ^C and ^\ reach the sandbox from it directly; runsc
    // must outlive them (the guest may catch them) and wait, as a shell does.
    const fromTty: NodeJS.Signals[] = sigs.includes('SIGINT') ? [] : ['SIGINT', 'SIGQUIT'];
    const ignore = (): void => {};
    const relay = (s: NodeJS.Signals): void => {
      try {
        process.kill(pid, s);
      } catch {
        // exiting
      }
    };
    const check = (): void => {
      const r = native.waitpid(pid, WNOHANG, st);
      if (r === 0) return;
      clearInterval(keepAlive);
      process.off('SIGCHLD', check);
      for (const s of sigs) process.off(s, relay);
      for (const s of fromTty) process.off(s, ignore);
      resolve(r < 0 ? 1 << 8 : st[0]);
    };
    // Signal listeners do not keep Node's loop alive; this does, and doubles
    // as a slow poll should a SIGCHLD be missed.
    const keepAlive = setInterval(check, 1000);
    for (const s of sigs) process.on(s, relay);
    for (const s of fromTty) process.on(s, ignore);
    process.on('SIGCHLD', check);
    check();
  });
}

/** bootSandbox is the sandbox process (`runsc sandbox --spec-fd N`): it runs
 *  the command and returns its shell-style exit code. */
export async function bootSandbox(specFd: number): Promise<number> {
  const spec = JSON.parse(readFileSync(specFd, 'utf8')) as BootSpec;
  closeSync(specFd);
  // JSON has no Infinity (RLIM_INFINITY): it travels as -1.
  spec.rlimits = spec.rlimits.map(([c, m]) => [c < 0 ? Infinity : c, m < 0 ? Infinity : m]);
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
      { init: true, rlimits: spec.rlimits, stdio: [0, 1, 2], ownFds: false, keepEnv: true });
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

/** exitCode turns a wait status into a shell-style exit code. */
export function exitCode(status: number): number {
  const sig = status & 0x7f;
  return sig ? 128 + sig : (status >> 8) & 0xff;
}
