// The container's cgroup (linux.cgroupsPath), best effort: created when the
// host's cgroup file system is writable, on cgroup v1 (one directory per
// hierarchy) or v2 (one directory). `runsc create` joins it just before it
// spawns the sandbox process and leaves right after, so the sandbox process,
// its Gofers and every stub are in it from their first instruction: limits
// cover the guest's memory and also what the Sentry holds for it (the
// overlay's in-memory upper layer, pipe buffers...), and the containerd shim,
// which reads the cgroup of the pid in --pid-file, finds the container's
// usage there (`docker stats`, OOM events). The v1 pids hierarchy is the
// exception: only the stubs go there (see enterCgroup).

import * as fs from 'node:fs';
import * as path from 'node:path';
import type { LinuxResources } from '../specutils/spec.js';

const CGROUP_ROOT = '/sys/fs/cgroup';

interface Hierarchy {
  mount: string;
  controllers: string[];
}

/** hierarchies lists the mounted cgroup hierarchies: v1 ones, or the single v2 one. */
export function hierarchies(): { version: 1 | 2; list: Hierarchy[] } {
  let text = '';
  try {
    text = fs.readFileSync('/proc/self/mounts', 'utf8');
  } catch {
    return { version: 1, list: [] };
  }
  const v1: Hierarchy[] = [];
  let v2: Hierarchy | null = null;
  for (const line of text.split('\n')) {
    const [, mnt, type, opts] = line.split(' ');
    if (!mnt || !mnt.startsWith(CGROUP_ROOT)) continue;
    if (type === 'cgroup') {
      const known = ['cpu', 'cpuacct', 'cpuset', 'memory', 'devices', 'freezer', 'blkio', 'pids', 'hugetlb', 'net_cls',
        'net_prio', 'perf_event', 'rdma', 'misc'];
      const ctrls = opts.split(',').filter((o) => known.includes(o) || o.startsWith('name='));
      v1.push({ mount: mnt, controllers: ctrls });
    } else if (type === 'cgroup2') {
      v2 = { mount: mnt, controllers: [] };
    }
  }
  if (v1.length) return { version: 1, list: v1 };
  return { version: 2, list: v2 ? [v2] : [] };
}

/** cgroupVersion is 2 on a unified-only host. */
export function cgroupVersion(): 1 | 2 {
  return hierarchies().version;
}

/** relativePath turns linux.cgroupsPath into a path below each hierarchy's root.
 *  With --systemd-cgroup, "slice:prefix:name" is the scope prefix-name.scope in
 *  slice (expanded as systemd nests it: a-b.slice is in a.slice). */
export function relativePath(cgroupsPath: string, systemd: boolean): string {
  if (systemd && /^[^/:]*:[^:]*:[^:]*$/.test(cgroupsPath)) {
    const [slice, prefix, name] = cgroupsPath.split(':');
    const parts: string[] = [];
    if (slice && slice !== '-.slice') {
      const base = slice.replace(/\.slice$/, '').split('-');
      for (let i = 1; i <= base.length; i++) parts.push(`${base.slice(0, i).join('-')}.slice`);
    } else if (!slice) {
      parts.push('system.slice');
    }
    parts.push(name.endsWith('.slice') ? name : `${prefix ? `${prefix}-` : ''}${name}.scope`);
    return parts.join('/');
  }
  return path.posix.normalize('/' + cgroupsPath).slice(1);
}

function write(file: string, value: string): void {
  fs.writeFileSync(file, value);
}

function read(file: string): string | null {
  try {
    return fs.readFileSync(file, 'utf8').trim();
  } catch {
    return null;
  }
}

/** cpusetInit fills an empty cpuset.cpus/mems from the parent (v1 refuses tasks otherwise). */
function cpusetInit(dir: string): void {
  for (const f of ['cpuset.cpus', 'cpuset.mems']) {
    const own = read(path.join(dir, f));
    if (own === null || own !== '') continue;
    const parent = path.dirname(dir);
    cpusetInit(parent);
    const v = read(path.join(parent, f));
    if (v) write(path.join(dir, f), v);
  }
}

/** createCgroup makes the container's cgroup directories; [] when cgroups are not writable. */
export function createCgroup(rel: string, warn: (m: string) => void): string[] {
  const { list } = hierarchies();
  const dirs: string[] = [];
  for (const h of list) {
    const dir = path.join(h.mount, rel);
    try {
      fs.mkdirSync(dir, { recursive: true });
      if (h.controllers.includes('cpuset')) cpusetInit(dir);
      dirs.push(dir);
    } catch (e) {
      warn(`cgroup ${dir}: ${(e as Error).message}`);
    }
  }
  return dirs;
}

/** CgroupPlace is where a process was, per hierarchy mount, before joining. */
export type CgroupPlace = Map<string, string>;

/** ownCgroups maps each hierarchy mount to this process's cgroup directory in it. */
function ownCgroups(): CgroupPlace {
  const out: CgroupPlace = new Map();
  let text = '';
  try {
    text = fs.readFileSync('/proc/self/cgroup', 'utf8');
  } catch {
    return out;
  }
  const { version, list } = hierarchies();
  for (const line of text.split('\n')) {
    const m = /^\d+:([^:]*):(.*)$/.exec(line);
    if (!m) continue;
    const ctrls = m[1].split(',').filter(Boolean);
    const h = version === 2 ? (ctrls.length === 0 ? list[0] : undefined)
      : list.find((x) => x.controllers.length === ctrls.length && ctrls.every((c) => x.controllers.includes(c)));
    if (h) out.set(h.mount, path.join(h.mount, m[2]));
  }
  return out;
}

/** pidsDirs picks, among a cgroup's directories, the v1 pids hierarchy's. */
export function pidsDirs(dirs: string[]): string[] {
  const pids = hierarchies().list.filter((h) => h.controllers.includes('pids')).map((h) => h.mount);
  return dirs.filter((d) => pids.some((m) => d === m || d.startsWith(m + '/')));
}

/** enterCgroup moves this process into dirs and returns where it was, for
 *  leaveCgroup. Not into a v1 pids hierarchy: pids.max counts host threads,
 *  and the Sentry's and Gofers' own (Node's, libuv's) would eat the guest's
 *  allowance; the sandbox puts its stubs there (joinStubs). */
export function enterCgroup(dirs: string[], warn: (m: string) => void): CgroupPlace {
  const before = ownCgroups();
  const skip = new Set(pidsDirs(dirs));
  joinCgroup(dirs.filter((d) => !skip.has(d)), process.pid, warn);
  return before;
}

/** leaveCgroup moves this process back where enterCgroup found it (so the
 *  container's cgroup can be removed while this process goes on). */
export function leaveCgroup(place: CgroupPlace, dirs: string[]): void {
  for (const d of dirs) {
    for (const [mount, own] of place) {
      if (d !== mount && !d.startsWith(mount + '/')) continue;
      try {
        write(path.join(own, 'cgroup.procs'), String(process.pid));
      } catch {
        // Best effort: the cgroup then stays until this process exits.
      }
    }
  }
}

/** existingCgroup lists the container cgroup's directories that exist (for stats). */
export function existingCgroup(rel: string): string[] {
  return hierarchies().list.map((h) => path.join(h.mount, rel)).filter((d) => fs.existsSync(d));
}

/** joinCgroup moves host process pid into every directory of the cgroup. */
export function joinCgroup(dirs: string[], pid: number, warn: (m: string) => void): void {
  for (const d of dirs) {
    try {
      write(path.join(d, 'cgroup.procs'), String(pid));
    } catch (e) {
      warn(`joining cgroup ${d}: ${(e as Error).message}`);
    }
  }
}

function has(dirs: string[], file: string): string | null {
  for (const d of dirs) if (fs.existsSync(path.join(d, file))) return path.join(d, file);
  return null;
}

/** applyResources writes the limits of r the cgroup supports; returns what failed. */
export function applyResources(dirs: string[], r: LinuxResources | undefined, warn: (m: string) => void): void {
  if (!r || dirs.length === 0) return;
  const set = (file: string, value: string | number): void => {
    const f = has(dirs, file);
    if (!f) {
      warn(`cgroup: no ${file} to set ${value}`);
      return;
    }
    try {
      write(f, String(value));
    } catch (e) {
      warn(`cgroup: writing ${value} to ${f}: ${(e as Error).message}`);
    }
  };
  const v2 = has(dirs, 'cgroup.controllers') !== null && has(dirs, 'memory.limit_in_bytes') === null;
  const m = r.memory;
  const c = r.cpu;
  if (v2) {
    if (m?.limit !== undefined && m.limit !== 0) set('memory.max', m.limit < 0 ? 'max' : m.limit);
    if (m?.swap !== undefined && m.swap !== 0) {
      set('memory.swap.max', m.swap < 0 ? 'max' : Math.max(0, m.swap - (m.limit && m.limit > 0 ? m.limit : 0)));
    }
    if (m?.reservation) set('memory.low', m.reservation);
    if (c?.quota !== undefined || c?.period !== undefined) {
      const period = c.period || 100000;
      set('cpu.max', `${c.quota && c.quota > 0 ? c.quota : 'max'} ${period}`);
    }
    if (c?.shares) set('cpu.weight', 1 + Math.floor(((c.shares - 2) * 9999) / 262142));
    if (r.pids?.limit !== undefined && r.pids.limit !== 0) set('pids.max', r.pids.limit > 0 ? r.pids.limit : 'max');
    for (const [k, v] of Object.entries(r.unified ?? {})) set(k, v);
  } else {
    if (m?.limit !== undefined && m.limit !== 0) {
      const memsw = m.swap !== undefined && m.swap !== 0 ? m.swap : null;
      const f = has(dirs, 'memory.limit_in_bytes');
      try {
        if (f) write(f, String(m.limit));
        if (memsw !== null && has(dirs, 'memory.memsw.limit_in_bytes')) set('memory.memsw.limit_in_bytes', memsw);
      } catch {
        // Raising the limit above memsw needs memsw raised first.
        if (memsw !== null) set('memory.memsw.limit_in_bytes', memsw);
        set('memory.limit_in_bytes', m.limit);
      }
    }
    if (m?.reservation) set('memory.soft_limit_in_bytes', m.reservation);
    if (m?.swappiness !== undefined && m.swappiness <= 100) set('memory.swappiness', m.swappiness);
    if (c?.period) set('cpu.cfs_period_us', c.period);
    if (c?.quota) set('cpu.cfs_quota_us', c.quota);
    if (c?.shares) set('cpu.shares', c.shares);
    if (r.pids?.limit !== undefined && r.pids.limit !== 0) set('pids.max', r.pids.limit > 0 ? r.pids.limit : 'max');
    if (r.blockIO?.weight) set('blkio.weight', r.blockIO.weight);
  }
  if (c?.cpus) set('cpuset.cpus', c.cpus);
  if (c?.mems) set('cpuset.mems', c.mems);
}

/** cgroupStats reads the usage counters runc's `events --stats` reports. */
export function cgroupStats(dirs: string[]): Record<string, unknown> {
  const num = (file: string): number | undefined => {
    const f = has(dirs, file);
    const v = f ? read(f) : null;
    return v !== null && /^\d+$/.test(v) ? Number(v) : undefined;
  };
  const out: Record<string, unknown> = {};
  const memUsage = num('memory.usage_in_bytes') ?? num('memory.current');
  if (memUsage !== undefined) {
    out.memory = { usage: { usage: memUsage, max: num('memory.max_usage_in_bytes') ?? 0,
      limit: num('memory.limit_in_bytes') ?? num('memory.max') ?? 0 } };
  }
  let cpuNs = num('cpuacct.usage');
  if (cpuNs === undefined) {
    const f = has(dirs, 'cpu.stat');
    const m = f ? /usage_usec (\d+)/.exec(read(f) ?? '') : null;
    if (m) cpuNs = Number(m[1]) * 1000;
  }
  if (cpuNs !== undefined) out.cpu = { usage: { total: cpuNs } };
  const pids = num('pids.current');
  if (pids !== undefined) out.pids = { current: pids, limit: num('pids.max') ?? 0 };
  return out;
}

/** removeCgroup removes the directories (once their processes are gone). */
export function removeCgroup(dirs: string[]): void {
  for (const d of dirs) {
    for (let i = 0; i < 50; i++) {
      try {
        fs.rmdirSync(d);
        break;
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === 'ENOENT') break;
        if (code !== 'EBUSY') break;
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
      }
    }
  }
}
