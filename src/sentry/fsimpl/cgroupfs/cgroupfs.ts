// /sys/fs/cgroup: a read-only cgroup v2 hierarchy with the sandbox as its
// only cgroup, the root (the container sees itself at "/", as in a cgroup
// namespace: /proc/self/cgroup says 0::/). Runtimes size themselves from
// these files (the JVM's heap and CPU count, Go's GOMAXPROCS helpers, .NET),
// so the limits are the spec's and the usage is what the sandbox holds.

import { HOST_CPUS } from '../../../platform/hostproc.js';
import { TaskState } from '../../kernel/task.js';
import type { Kernel } from '../../kernel/kernel.js';
import { memInfo } from '../../kernel/meminfo.js';
import { processCpu } from '../../kernel/time.js';
import type { Caller } from '../../vfs/inode.js';
import { callerTask } from '../procfs/task.js';
import type { Spec } from '../procfs/synthetic.js';
import { ProcFS, SynthDir, file, tableOps, text } from '../procfs/synthetic.js';

export const CGROUP2_SUPER_MAGIC = 0x63677270;

/** CgroupLimits are the container's resources (OCI linux.resources), as set. */
export interface CgroupLimits {
  memoryMax?: number;
  memoryHigh?: number;
  swapMax?: number;
  cpuQuota?: number;
  cpuPeriod?: number;
  cpuShares?: number;
  cpus?: string;
  pidsMax?: number;
}

const CONTROLLERS = 'cpuset cpu io memory pids';

function kernelOf(c: Caller): Kernel {
  return callerTask(c).kernel;
}

const maxOr = (n: number | undefined): string => (n !== undefined && n > 0 ? String(n) : 'max');

/** cpuWeight converts cpu.shares (v1) to cpu.weight (v2), as runc and crun do. */
export function cpuWeight(shares: number | undefined): number {
  if (!shares) return 100;
  return 1 + Math.floor(((Math.min(Math.max(shares, 2), 262144) - 2) * 9999) / 262142);
}

function cpuStat(k: Kernel): string {
  let user = 0n;
  let sys = 0n;
  for (const tg of k.threadGroups.values()) {
    const c = processCpu(tg);
    user += c.user;
    sys += c.sys;
  }
  const us = (ns: bigint): string => String(ns / 1000n);
  return `usage_usec ${us(user + sys)}\nuser_usec ${us(user)}\nsystem_usec ${us(sys)}\n` +
    'nr_periods 0\nnr_throttled 0\nthrottled_usec 0\n';
}

function memoryCurrent(k: Kernel): number {
  const m = memInfo(k.platform);
  return m.anon + m.sentry;
}

function memoryStat(k: Kernel): string {
  const m = memInfo(k.platform);
  const rows: [string, number][] = [['anon', m.anon], ['file', m.sentry], ['kernel', 0], ['kernel_stack', 0],
    ['pagetables', 0], ['sock', 0], ['shmem', m.sentry], ['file_mapped', 0], ['file_dirty', 0], ['file_writeback', 0],
    ['anon_thp', 0], ['inactive_anon', 0], ['active_anon', m.anon], ['inactive_file', 0], ['active_file', m.sentry],
    ['unevictable', 0], ['pgfault', 0], ['pgmajfault', 0]];
  return rows.map(([n, v]) => `${n} ${v}\n`).join('');
}

function liveTasks(k: Kernel): number {
  let n = 0;
  for (const t of k.tasks.values()) if (t.state !== TaskState.Dead) n++;
  return n;
}

function procs(k: Kernel): string {
  return [...k.threadGroups.keys()].sort((a, b) => a - b).map((p) => `${p}\n`).join('');
}

function threads(k: Kernel): string {
  const out: number[] = [];
  for (const [tid, t] of k.tasks) if (t.state !== TaskState.Dead) out.push(tid);
  return out.sort((a, b) => a - b).map((t) => `${t}\n`).join('');
}

function rootTable(l: CgroupLimits): Record<string, Spec> {
  const cpus = l.cpus || `0-${HOST_CPUS - 1}`;
  return {
    'cgroup.controllers': text(`${CONTROLLERS}\n`),
    'cgroup.subtree_control': text('\n'),
    'cgroup.type': text('domain\n'),
    'cgroup.procs': file((c) => procs(kernelOf(c))),
    'cgroup.threads': file((c) => threads(kernelOf(c))),
    'cgroup.events': text('populated 1\nfrozen 0\n'),
    'cgroup.freeze': text('0\n'),
    'cgroup.max.depth': text('max\n'),
    'cgroup.max.descendants': text('max\n'),
    'cgroup.stat': text('nr_descendants 0\nnr_dying_descendants 0\n'),
    'cpu.max': text(`${maxOr(l.cpuQuota)} ${l.cpuPeriod && l.cpuPeriod > 0 ? l.cpuPeriod : 100000}\n`),
    'cpu.weight': text(`${cpuWeight(l.cpuShares)}\n`),
    'cpu.stat': file((c) => cpuStat(kernelOf(c))),
    'cpuset.cpus': text(l.cpus ? `${l.cpus}\n` : '\n'),
    'cpuset.cpus.effective': text(`${cpus}\n`),
    'cpuset.mems': text('\n'),
    'cpuset.mems.effective': text('0\n'),
    'io.max': text(''),
    'io.stat': text(''),
    'memory.current': file((c) => `${memoryCurrent(kernelOf(c))}\n`),
    'memory.max': text(`${maxOr(l.memoryMax)}\n`),
    'memory.high': text(`${maxOr(l.memoryHigh)}\n`),
    'memory.low': text('0\n'),
    'memory.min': text('0\n'),
    'memory.swap.current': text('0\n'),
    'memory.swap.max': text(`${maxOr(l.swapMax)}\n`),
    'memory.stat': file((c) => memoryStat(kernelOf(c))),
    'memory.events': text('low 0\nhigh 0\nmax 0\noom 0\noom_kill 0\n'),
    'memory.oom.group': text('0\n'),
    'pids.current': file((c) => `${liveTasks(kernelOf(c))}\n`),
    'pids.max': text(`${maxOr(l.pidsMax)}\n`),
  };
}

/** newCgroupFS builds the hierarchy for a sandbox with limits l (mount it read-only). */
export function newCgroupFS(l: CgroupLimits): ProcFS {
  const fs = new ProcFS({ type: 'cgroup2', source: 'cgroup', magic: CGROUP2_SUPER_MAGIC });
  fs.root = new SynthDir(fs, '', 0o555, () => [0, 0], null, '', tableOps(rootTable(l)));
  return fs;
}

/** cgroupLimitsOf reads an OCI spec's linux.resources. A v1 memory.swap is
 *  memory plus swap; v2's memory.swap.max is the swap alone. */
export function cgroupLimitsOf(r: {
  memory?: { limit?: number; reservation?: number; swap?: number };
  cpu?: { shares?: number; quota?: number; period?: number; cpus?: string };
  pids?: { limit: number };
} | undefined): CgroupLimits {
  const mem = r?.memory?.limit;
  const swap = r?.memory?.swap;
  return {
    memoryMax: mem && mem > 0 ? mem : undefined,
    swapMax: swap && swap > 0 && mem && mem > 0 ? Math.max(0, swap - mem) : undefined,
    cpuQuota: r?.cpu?.quota && r.cpu.quota > 0 ? r.cpu.quota : undefined,
    cpuPeriod: r?.cpu?.period,
    cpuShares: r?.cpu?.shares,
    cpus: r?.cpu?.cpus,
    pidsMax: r?.pids?.limit && r.pids.limit > 0 ? r.pids.limit : undefined,
  };
}
