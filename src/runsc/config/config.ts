// Config holds runsc's global flags, named as gVisor names them.

import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { FlagError } from './flags.js';
import type { FlagSpec, FlagValues } from './flags.js';

export const GLOBAL_FLAGS: FlagSpec[] = [
  { name: 'root', kind: 'string', help: 'root directory for storage of container state', default: '' },
  { name: 'debug', kind: 'bool', help: 'enable debug logging', default: false },
  { name: 'debug-log', kind: 'string', help: "additional location for logs: a file, or a directory if it ends with '/' (%TIMESTAMP%, %COMMAND% and %TEST% are replaced)", default: '' },
  { name: 'strace', kind: 'bool', help: 'enable strace of guest system calls', default: false },
  { name: 'strace-syscalls', kind: 'string', help: 'comma-separated list of syscalls to trace (all if empty)', default: '' },
  { name: 'platform', kind: 'string', help: 'platform that runs guest code: ptrace', default: 'ptrace' },
  { name: 'network', kind: 'string', help: 'network: sandbox, host or none', default: 'sandbox' },
  { name: 'log', kind: 'string', help: 'file path where internal debug information is written', default: '' },
  { name: 'log-format', kind: 'string', help: 'log format: text or json', default: 'text' },
  { name: 'log-fd', kind: 'int', help: 'file descriptor to log to', default: -1 },
  { name: 'debug-log-fd', kind: 'int', help: 'file descriptor to write debug logs to', default: -1 },
  { name: 'rootless', kind: 'bool', help: 'run without root (maps the caller to root inside)', default: false },
  { name: 'systemd-cgroup', kind: 'bool', help: 'use systemd for cgroups (accepted)', default: false },
  { name: 'file-access', kind: 'string', help: 'root file system access: exclusive or shared', default: 'exclusive' },
  { name: 'overlay2', kind: 'string', help: "the container root's writable layer: root:memory (an in-memory overlay, the host rootfs is never written) or none (writes go to the rootfs through its Gofer, as with runc)", default: 'root:memory' },
  { name: 'ignore-cgroups', kind: 'bool', help: 'do not configure cgroups', default: false },
  { name: 'host-uds', kind: 'string', help: 'host Unix domain socket access: none, open, create, all', default: 'none' },
  { name: 'no-seccomp', kind: 'bool', help: 'debugging only: do not install seccomp filters', default: false },
  { name: 'net-raw', kind: 'bool', help: 'enable raw sockets. When false, raw sockets are disabled by removing CAP_NET_RAW from containers (`runsc exec` will still be able to utilize raw sockets). Raw sockets allow malicious containers to craft packets and potentially attack the network', default: false },
];

export interface Config {
  root: string;
  debug: boolean;
  debugLog: string;
  strace: boolean;
  straceSyscalls: string[];
  platform: string;
  network: string;
  log: string;
  logFormat: string;
  rootless: boolean;
  systemdCgroup: boolean;
  ignoreCgroups: boolean;
  noSeccomp: boolean;
  /** netRaw (--net-raw): guests keep CAP_NET_RAW, so raw IP sockets work; off, every process loses it. */
  netRaw: boolean;
  /** overlay2: how a container's root is written (parseOverlay2). */
  overlay2: Overlay2;
}

/** Overlay2 is the --overlay2 modes tsvisor has: an overlay of the rootfs
 *  under an in-memory layer, or the rootfs itself, written through. */
export type Overlay2 = 'root:memory' | 'none';

/** parseOverlay2 checks an --overlay2 value (gVisor's {mount}:{medium} or
 *  none). gVisor's own default is root:self, an overlay whose upper layer is
 *  a file in the rootfs directory; tsvisor has no file-backed upper layer, so
 *  it refuses that (and all:*, and a directory medium) rather than pretend,
 *  and keeps root:memory as its default: the rootfs is never written unless
 *  none is asked for. */
export function parseOverlay2(v: string): Overlay2 {
  if (v === 'root:memory' || v === 'none') return v;
  const supported = 'supported: root:memory (default), none';
  const [mount, medium] = v.split(':');
  if (medium === undefined || !['root', 'all'].includes(mount)) {
    throw new FlagError(`invalid --overlay2 value ${JSON.stringify(v)}: expected {mount}:{medium} or none (${supported})`);
  }
  if (mount === 'all') throw new FlagError(`--overlay2=${v}: overlays over submounts are not supported (${supported})`);
  throw new FlagError(`--overlay2=${v}: the ${medium === 'self' ? 'file-backed (self)' : 'directory'} medium is not supported (${supported})`);
}

export function configFrom(v: FlagValues): Config {
  return {
    root: (v.root as string) || (process.getuid?.() === 0 ? '/var/run/runsc' : `${process.env.XDG_RUNTIME_DIR ?? '/tmp'}/runsc`),
    debug: v.debug as boolean,
    debugLog: v['debug-log'] as string,
    strace: v.strace as boolean,
    straceSyscalls: ((v['strace-syscalls'] as string) || '').split(',').filter(Boolean),
    platform: v.platform as string,
    network: v.network as string,
    log: v.log as string,
    logFormat: v['log-format'] as string,
    rootless: v.rootless as boolean,
    systemdCgroup: v['systemd-cgroup'] === true,
    ignoreCgroups: v['ignore-cgroups'] === true,
    noSeccomp: v['no-seccomp'] === true,
    netRaw: v['net-raw'] === true,
    overlay2: parseOverlay2((v.overlay2 as string | undefined) ?? 'root:memory'),
  };
}

/** DEBUG_LOG_NAME is the file a --debug-log directory gets, one per command (as gVisor names them). */
const DEBUG_LOG_NAME = 'runsc.log.%TIMESTAMP%.%COMMAND%.txt';

/** debugLogPath expands a --debug-log pattern for one runsc command: a
 *  trailing '/' names a directory that gets a file per command, and
 *  %TIMESTAMP% (to the microsecond), %COMMAND% and %TEST% are replaced. */
export function debugLogPath(pattern: string, command: string, now = new Date(), micros = 0): string {
  if (pattern.endsWith('/')) pattern += DEBUG_LOG_NAME;
  const p2 = (n: number, w = 2) => String(n).padStart(w, '0');
  const ts = `${now.getUTCFullYear()}${p2(now.getUTCMonth() + 1)}${p2(now.getUTCDate())}-` +
    `${p2(now.getUTCHours())}${p2(now.getUTCMinutes())}${p2(now.getUTCSeconds())}.${p2(now.getUTCMilliseconds() * 1000 + micros, 6)}`;
  return pattern.replaceAll('%TIMESTAMP%', ts).replaceAll('%COMMAND%', command).replaceAll('%TEST%', process.env.TEST_TARGET ?? '');
}

/** prepareDebugLog resolves conf.debugLog for command and makes its directory. */
export function prepareDebugLog(conf: Config, command: string): void {
  if (!conf.debugLog) return;
  const dir = conf.debugLog.endsWith('/');
  conf.debugLog = debugLogPath(conf.debugLog, command, new Date(), Number(process.hrtime.bigint() / 1000n % 1000n));
  if (dir) {
    try {
      mkdirSync(dirname(conf.debugLog), { recursive: true });
    } catch {
      // Opening the log reports the problem.
    }
  }
}
