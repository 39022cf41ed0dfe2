// The OCI runtime spec (config.json), as much of it as runsc reads: types,
// loading with validation, and the default spec `runsc spec` writes. Field
// names are the spec's; see github.com/opencontainers/runtime-spec config.md.

import { readFileSync } from 'node:fs';
import * as path from 'node:path';

export interface User {
  uid: number;
  gid: number;
  umask?: number;
  additionalGids?: number[];
  username?: string;
}

export interface Capabilities {
  bounding?: string[];
  effective?: string[];
  inheritable?: string[];
  permitted?: string[];
  ambient?: string[];
}

export interface Rlimit {
  type: string;
  hard: number;
  soft: number;
}

export interface Process {
  terminal?: boolean;
  consoleSize?: { height: number; width: number };
  user: User;
  args?: string[];
  commandLine?: string;
  env?: string[];
  cwd: string;
  capabilities?: Capabilities;
  rlimits?: Rlimit[];
  noNewPrivileges?: boolean;
  apparmorProfile?: string;
  oomScoreAdj?: number;
  selinuxLabel?: string;
}

export interface Mount {
  destination: string;
  type?: string;
  source?: string;
  options?: string[];
}

export interface Hook {
  path: string;
  args?: string[];
  env?: string[];
  timeout?: number;
}

export const HOOK_KINDS = ['prestart', 'createRuntime', 'createContainer', 'startContainer', 'poststart', 'poststop'] as const;
export type HookKind = (typeof HOOK_KINDS)[number];
export type Hooks = Partial<Record<HookKind, Hook[]>>;

export interface LinuxResources {
  memory?: { limit?: number; reservation?: number; swap?: number; kernel?: number; swappiness?: number; disableOOMKiller?: boolean };
  cpu?: { shares?: number; quota?: number; period?: number; realtimeRuntime?: number; realtimePeriod?: number; cpus?: string; mems?: string };
  pids?: { limit: number };
  blockIO?: { weight?: number };
  devices?: { allow: boolean; type?: string; major?: number; minor?: number; access?: string }[];
  unified?: Record<string, string>;
}

export interface Linux {
  namespaces?: { type: string; path?: string }[];
  uidMappings?: { containerID: number; hostID: number; size: number }[];
  gidMappings?: { containerID: number; hostID: number; size: number }[];
  cgroupsPath?: string;
  resources?: LinuxResources;
  sysctl?: Record<string, string>;
  seccomp?: unknown;
  maskedPaths?: string[];
  readonlyPaths?: string[];
  devices?: unknown[];
}

export interface Spec {
  ociVersion: string;
  process?: Process;
  root?: { path: string; readonly?: boolean };
  hostname?: string;
  domainname?: string;
  mounts?: Mount[];
  hooks?: Hooks;
  annotations?: Record<string, string>;
  linux?: Linux;
}

/** SpecError is a malformed or unusable config.json. */
export class SpecError extends Error {}

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isStrArray(v: unknown): v is string[] {
  return Array.isArray(v) && v.every((s) => typeof s === 'string');
}

function isUint(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0;
}

/** checkProcess validates a process object (the container's, or one for exec). */
export function checkProcess(p: unknown, what = 'process'): Process {
  if (!isObj(p)) throw new SpecError(`${what} property must not be empty`);
  if (!isObj(p.user)) throw new SpecError(`${what}.user must be an object`);
  const u = p.user;
  if (!isUint(u.uid) || !isUint(u.gid)) throw new SpecError(`${what}.user.uid and .gid must be non-negative integers`);
  if (u.umask !== undefined && !isUint(u.umask)) throw new SpecError(`${what}.user.umask must be a non-negative integer`);
  if (u.additionalGids !== undefined && !(Array.isArray(u.additionalGids) && u.additionalGids.every(isUint))) {
    throw new SpecError(`${what}.user.additionalGids must be an array of non-negative integers`);
  }
  if (!isStrArray(p.args) || p.args.length === 0) throw new SpecError(`${what}.args must not be empty`);
  if (p.env !== undefined && !isStrArray(p.env)) throw new SpecError(`${what}.env must be an array of strings`);
  if (typeof p.cwd !== 'string' || p.cwd === '') throw new SpecError(`${what}.cwd property must not be empty`);
  if (!p.cwd.startsWith('/')) throw new SpecError(`${what}.cwd ${JSON.stringify(p.cwd)} is not an absolute path`);
  if (p.terminal !== undefined && typeof p.terminal !== 'boolean') throw new SpecError(`${what}.terminal must be a boolean`);
  if (p.consoleSize !== undefined &&
    !(isObj(p.consoleSize) && isUint(p.consoleSize.height) && isUint(p.consoleSize.width))) {
    throw new SpecError(`${what}.consoleSize must have height and width`);
  }
  if (p.capabilities !== undefined) {
    if (!isObj(p.capabilities)) throw new SpecError(`${what}.capabilities must be an object`);
    for (const [k, v] of Object.entries(p.capabilities)) {
      if (v !== undefined && v !== null && !isStrArray(v)) throw new SpecError(`${what}.capabilities.${k} must be an array of strings`);
    }
  }
  if (p.rlimits !== undefined) {
    if (!Array.isArray(p.rlimits)) throw new SpecError(`${what}.rlimits must be an array`);
    for (const r of p.rlimits) {
      if (!isObj(r) || typeof r.type !== 'string' || !isUint(r.hard) || !isUint(r.soft)) {
        throw new SpecError(`${what}.rlimits entries need type, soft and hard`);
      }
      if (rlimitIndex(r.type) < 0) throw new SpecError(`${what}.rlimits: unknown rlimit type ${JSON.stringify(r.type)}`);
      if (r.soft > r.hard) throw new SpecError(`${what}.rlimits: ${r.type} soft limit is above the hard limit`);
    }
  }
  if (p.noNewPrivileges !== undefined && typeof p.noNewPrivileges !== 'boolean') {
    throw new SpecError(`${what}.noNewPrivileges must be a boolean`);
  }
  return p as unknown as Process;
}

/** checkSpec validates a parsed config.json for create/run. */
export function checkSpec(v: unknown): Spec {
  if (!isObj(v)) throw new SpecError('config.json must hold a JSON object');
  if (typeof v.ociVersion !== 'string') throw new SpecError('ociVersion must be a string');
  // Every 1.x spec is accepted: 1.0.0, 1.0.2-dev, 1.1.0-rc.1...
  if (!/^1\.\d+(\.\d+)?([-+].*)?$/.test(v.ociVersion)) {
    throw new SpecError(`unsupported ociVersion ${JSON.stringify(v.ociVersion)} (want 1.x)`);
  }
  if (!isObj(v.root) || typeof v.root.path !== 'string' || v.root.path === '') {
    throw new SpecError('root.path must be set');
  }
  if (v.root.readonly !== undefined && typeof v.root.readonly !== 'boolean') throw new SpecError('root.readonly must be a boolean');
  checkProcess(v.process);
  if (v.hostname !== undefined && typeof v.hostname !== 'string') throw new SpecError('hostname must be a string');
  if (v.domainname !== undefined && typeof v.domainname !== 'string') throw new SpecError('domainname must be a string');
  if (v.mounts !== undefined) {
    if (!Array.isArray(v.mounts)) throw new SpecError('mounts must be an array');
    for (const m of v.mounts) {
      if (!isObj(m) || typeof m.destination !== 'string' || !m.destination.startsWith('/')) {
        throw new SpecError(`mount destination ${JSON.stringify(isObj(m) ? m.destination : m)} must be an absolute path`);
      }
      if (m.options !== undefined && !isStrArray(m.options)) throw new SpecError(`mount ${m.destination}: options must be strings`);
      if (m.source !== undefined && typeof m.source !== 'string') throw new SpecError(`mount ${m.destination}: source must be a string`);
      if (m.type !== undefined && typeof m.type !== 'string') throw new SpecError(`mount ${m.destination}: type must be a string`);
    }
  }
  if (v.hooks !== undefined) {
    if (!isObj(v.hooks)) throw new SpecError('hooks must be an object');
    for (const [k, list] of Object.entries(v.hooks)) {
      if (!Array.isArray(list)) throw new SpecError(`hooks.${k} must be an array`);
      for (const h of list) {
        if (!isObj(h) || typeof h.path !== 'string' || !h.path.startsWith('/')) {
          throw new SpecError(`hooks.${k}: every hook needs an absolute path`);
        }
        if (h.args !== undefined && !isStrArray(h.args)) throw new SpecError(`hooks.${k}: args must be strings`);
        if (h.env !== undefined && !isStrArray(h.env)) throw new SpecError(`hooks.${k}: env must be strings`);
        if (h.timeout !== undefined && !(isUint(h.timeout) && h.timeout > 0)) throw new SpecError(`hooks.${k}: timeout must be positive`);
      }
    }
  }
  if (v.annotations !== undefined) {
    if (!isObj(v.annotations) || !Object.values(v.annotations).every((a) => typeof a === 'string')) {
      throw new SpecError('annotations must map strings to strings');
    }
  }
  if (v.linux !== undefined && !isObj(v.linux)) throw new SpecError('linux must be an object');
  return v as unknown as Spec;
}

/** loadSpec reads and validates <bundle>/config.json. */
export function loadSpec(bundle: string): Spec {
  const file = path.join(bundle, 'config.json');
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new SpecError(code === 'ENOENT' ? `${file}: no such file (is ${bundle} a bundle?)` : `reading ${file}: ${String(e)}`);
  }
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new SpecError(`${file}: malformed JSON: ${(e as Error).message}`);
  }
  return checkSpec(v);
}

/** rootfsPath is the container's root directory on the host (root.path is relative to the bundle). */
export function rootfsPath(spec: Spec, bundle: string): string {
  return path.resolve(bundle, spec.root?.path ?? 'rootfs');
}

// ---- Capabilities ----

const CAP_NAMES = [
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_DAC_READ_SEARCH', 'CAP_FOWNER', 'CAP_FSETID', 'CAP_KILL', 'CAP_SETGID',
  'CAP_SETUID', 'CAP_SETPCAP', 'CAP_LINUX_IMMUTABLE', 'CAP_NET_BIND_SERVICE', 'CAP_NET_BROADCAST', 'CAP_NET_ADMIN',
  'CAP_NET_RAW', 'CAP_IPC_LOCK', 'CAP_IPC_OWNER', 'CAP_SYS_MODULE', 'CAP_SYS_RAWIO', 'CAP_SYS_CHROOT',
  'CAP_SYS_PTRACE', 'CAP_SYS_PACCT', 'CAP_SYS_ADMIN', 'CAP_SYS_BOOT', 'CAP_SYS_NICE', 'CAP_SYS_RESOURCE',
  'CAP_SYS_TIME', 'CAP_SYS_TTY_CONFIG', 'CAP_MKNOD', 'CAP_LEASE', 'CAP_AUDIT_WRITE', 'CAP_AUDIT_CONTROL',
  'CAP_SETFCAP', 'CAP_MAC_OVERRIDE', 'CAP_MAC_ADMIN', 'CAP_SYSLOG', 'CAP_WAKE_ALARM', 'CAP_BLOCK_SUSPEND',
  'CAP_AUDIT_READ', 'CAP_PERFMON', 'CAP_BPF', 'CAP_CHECKPOINT_RESTORE',
];

/** capMask turns capability names into a bit mask; unknown names go to unknown (runc ignores them too). */
export function capMask(names: string[] | undefined, unknown: string[] = []): bigint {
  let m = 0n;
  for (const n of names ?? []) {
    const i = CAP_NAMES.indexOf(n.toUpperCase().startsWith('CAP_') ? n.toUpperCase() : `CAP_${n.toUpperCase()}`);
    if (i < 0) unknown.push(n);
    else m |= 1n << BigInt(i);
  }
  return m;
}

/** CAPABILITY_NAMES lists every capability runsc knows, in bit order. */
export const CAPABILITY_NAMES: ReadonlyArray<string> = CAP_NAMES;

// ---- Resource limits ----

const RLIMIT_NAMES = [
  'RLIMIT_CPU', 'RLIMIT_FSIZE', 'RLIMIT_DATA', 'RLIMIT_STACK', 'RLIMIT_CORE', 'RLIMIT_RSS', 'RLIMIT_NPROC',
  'RLIMIT_NOFILE', 'RLIMIT_MEMLOCK', 'RLIMIT_AS', 'RLIMIT_LOCKS', 'RLIMIT_SIGPENDING', 'RLIMIT_MSGQUEUE',
  'RLIMIT_NICE', 'RLIMIT_RTPRIO', 'RLIMIT_RTTIME',
];

/** rlimitIndex is the resource number of an RLIMIT_* name, or -1. */
export function rlimitIndex(name: string): number {
  return RLIMIT_NAMES.indexOf(name);
}

// ---- The default spec ----

const DEFAULT_CAPS = ['CAP_AUDIT_WRITE', 'CAP_KILL', 'CAP_NET_BIND_SERVICE'];

/** defaultSpec is what `runsc spec` writes: runc's example bundle (args ["sh"], a terminal,
 *  a read-only "rootfs", the standard mounts), with gVisor's hostname. */
export function defaultSpec(args: string[] = ['sh'], cwd = '/'): Spec {
  return {
    ociVersion: '1.0.2',
    process: {
      terminal: true,
      user: { uid: 0, gid: 0 },
      args,
      env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'TERM=xterm'],
      cwd,
      capabilities: {
        bounding: [...DEFAULT_CAPS], effective: [...DEFAULT_CAPS], permitted: [...DEFAULT_CAPS], ambient: [...DEFAULT_CAPS],
      },
      rlimits: [{ type: 'RLIMIT_NOFILE', hard: 1024, soft: 1024 }],
      noNewPrivileges: true,
    },
    root: { path: 'rootfs', readonly: true },
    hostname: 'runsc',
    mounts: [
      { destination: '/proc', type: 'proc', source: 'proc' },
      { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
      { destination: '/dev/pts', type: 'devpts', source: 'devpts',
        options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'] },
      { destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=65536k'] },
      { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
      { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', 'ro'] },
      { destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: ['nosuid', 'noexec', 'nodev', 'relatime', 'ro'] },
    ],
    linux: {
      resources: { devices: [{ allow: false, access: 'rwm' }] },
      namespaces: [{ type: 'pid' }, { type: 'network' }, { type: 'ipc' }, { type: 'uts' }, { type: 'mount' }, { type: 'cgroup' }],
      maskedPaths: ['/proc/acpi', '/proc/asound', '/proc/kcore', '/proc/keys', '/proc/latency_stats', '/proc/timer_list',
        '/proc/timer_stats', '/proc/sched_debug', '/sys/firmware', '/proc/scsi'],
      readonlyPaths: ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'],
    },
  };
}
