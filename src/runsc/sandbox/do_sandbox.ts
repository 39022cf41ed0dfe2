// runsc's side of `runsc do` (the sandbox process, the Sentry, is
// boot/sandbox.ts): it starts the Gofers and the sandbox process, each in
// namespaces of its own (boot/launch.ts), hands the sandbox its stdio, its
// Gofer sockets and a spec, then waits for it and relays signals. Part of the
// CLI bundle: nothing here may import the Sentry's modules (types aside).

import { closeSync, openSync, writeSync } from 'node:fs';
import { check, distEntry, native } from '../../platform/ptrace/native.js';
import { spawnGofers } from '../../gofer/launcher.js';
import type { Config } from '../config/config.js';
import type { BootSpec, SandboxSpec } from '../boot/boot_spec.js';
import { readHostRlimits } from '../boot/host_rlimits.js';
import { launch } from '../boot/launch.js';
import { debugLogger, setupDoNetwork } from '../boot/network.js';
import type { DoNetwork } from '../boot/network.js';
import { SENTRY_NODE_ARGS } from '../loader/bundle_script.js';
import { waitFor } from './wait.js';

export type { SandboxSpec } from '../boot/boot_spec.js';

const SPEC_FD = 3;
const LOG_FD = 4;
const FIRST_GOFER_FD = 5;

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

/** runSandbox runs spec's command in a sandbox process and resolves with its exit code. */
export async function runSandbox(conf: Config, spec: SandboxSpec): Promise<number> {
  const rlimits = readHostRlimits(); // before raising our own: the guest gets the caller's
  native.setNofile(1 << 20); // inherited by the sandbox, which may not raise it in its user namespace
  const gofers = spawnGofers(spec.hostRoot, spec.volumes, (m) => process.stderr.write(`runsc: ${m}\n`),
    { rootless: conf.rootless, noSeccomp: conf.noSeccomp });
  const logFd = openLog(conf);
  const net = sandboxLink(conf, spec.ip);
  const netFd = FIRST_GOFER_FD + gofers.procs.length;
  const boot: BootSpec = {
    network: net?.sentryConfig(netFd), files: net?.guestFiles(spec.hostname, spec.hostRoot),
    ...spec, hostRoot: gofers.hostRoot, volumes: gofers.volumes, conf, logFd: LOG_FD,
    rlimits: rlimits.map((r) => r && [r[0] === Infinity ? -1 : r[0], r[1] === Infinity ? -1 : r[1]]),
    gofers: gofers.procs.map((p, i) => ({ hostPath: p.root, fd: FIRST_GOFER_FD + i })),
  };
  const specFd = memfdWith(JSON.stringify(boot));
  let pid: number;
  try {
    const entry = distEntry('sentry.mjs', 'runsc/sentry_main.js');
    pid = launch({
      kind: 'sentry', path: process.execPath,
      argv: [process.execPath, ...SENTRY_NODE_ARGS, ...(process.env.TSVISOR_SENTRY_NODE_ARGS?.split(' ').filter(Boolean) ?? []), entry, 'sandbox', '--spec-fd', String(SPEC_FD)],
      // TZ: with none, glibc would open /etc/localtime when a log line is
      // stamped, after the Sentry has given up opening files.
      env: ['TZ=UTC', ...['TSVISOR_SECCOMP_LEARN', 'TSVISOR_NO_MEMFILE', 'TSVISOR_NO_CPU_BIND', 'TSVISOR_TESTONLY_SENTRY_OPEN', 'TSVISOR_TESTONLY_MEMORY_LIMIT', 'TSVISOR_TESTONLY_MAX_TASKS', 'TSVISOR_TESTONLY_MAX_FILES'].filter((k) => process.env[k]).map((k) => `${k}=${process.env[k]}`)],
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
