// procfs: /proc. The root lists the sandbox's processes and system files;
// system values are the sandbox's (its processes, its uptime, its kernel
// version as uname reports it) or the host's where the guest runs on the host
// as is (CPUs, memory).

import { randomUUID } from 'node:crypto';
import type { Task } from '../../kernel/task.js';
import type { Kernel } from '../../kernel/kernel.js';
import { UTS_RELEASE, UTS_VERSION } from '../../syscalls/linux/sys_misc.js';
import type { Caller, Inode } from '../../vfs/inode.js';
import { isTask } from '../../vfs/special.js';
import type { DirOps, Spec } from './synthetic.js';
import { ProcFS, SynthDir, dir, file, link, rootOwner, sysctl, tableOps, text } from './synthetic.js';
import { callerTask, taskDir } from './task.js';
import { kernelIpcSysctls, mqueueSysctls, sysvipcTable } from './sysvipc.js';
import { HOST_CPUS, hostLoadavg, readHostProcText } from '../../../platform/hostproc.js';
import { memInfo } from '../../kernel/meminfo.js';
import { RMEM_MAX, SOCK_DEFAULT_BUF, WMEM_MAX } from '../../socket/abi.js';

let cpuinfoCache: string | null = null;
function cpuinfo(): string {
  if (cpuinfoCache === null) {
    try {
      cpuinfoCache = readHostProcText('cpuinfo');
    } catch {
      cpuinfoCache = '';
    }
  }
  return cpuinfoCache;
}

function kernelOf(c: Caller): Kernel {
  return callerTask(c).kernel;
}

function uptimeSec(k: Kernel): number {
  return Number(process.hrtime.bigint() - k.bootTime) / 1e9;
}

function meminfo(k: Kernel): string {
  const kb = (n: number) => `${String(Math.floor(n / 1024)).padStart(8)} kB`;
  const { total, free, anon, sentry } = memInfo(k.platform);
  const used = total - free;
  const rows: [string, number][] = [
    ['MemTotal', total], ['MemFree', free], ['MemAvailable', free], ['Buffers', 0], ['Cached', sentry],
    ['SwapCached', 0], ['Active', used], ['Inactive', 0], ['Active(anon)', anon], ['Inactive(anon)', 0],
    ['Active(file)', sentry], ['Inactive(file)', 0], ['Unevictable', 0], ['Mlocked', 0], ['SwapTotal', 0], ['SwapFree', 0],
    ['Dirty', 0], ['Writeback', 0], ['AnonPages', anon], ['Mapped', 0], ['Shmem', 0], ['CommitLimit', total],
    ['Committed_AS', used], ['VmallocTotal', 34359738367 * 1024], ['VmallocUsed', 0], ['VmallocChunk', 0],
    ['AnonHugePages', 0], ['HugePages_Total', 0], ['HugePages_Free', 0], ['HugePages_Rsvd', 0], ['HugePages_Surp', 0],
    ['Hugepagesize', 2048 * 1024],
  ];
  return rows.map(([key, v]) => (key.startsWith('HugePages_') ? `${(key + ':').padEnd(16)}${String(v).padStart(8)}\n`
    : `${(key + ':').padEnd(16)}${kb(v)}\n`)).join('');
}

function statText(k: Kernel): string {
  const n = HOST_CPUS;
  const up = uptimeSec(k);
  const cpu = (name: string) => `${name} 0 0 0 ${Math.floor(up * 100)} 0 0 0 0 0 0\n`;
  let s = cpu('cpu ');
  for (let i = 0; i < n; i++) s += cpu(`cpu${i}`);
  const btime = Math.floor(Date.now() / 1000 - up);
  let running = 0;
  for (const t of k.tasks.values()) if (t.state === 0) running++;
  s += 'intr 0\nctxt 0\n' + `btime ${btime}\nprocesses ${k.threadGroups.size}\n` +
    `procs_running ${Math.max(1, running)}\nprocs_blocked 0\nsoftirq 0 0 0 0 0 0 0 0 0 0 0\n`;
  return s;
}

const bootId = randomUUID();

const FILESYSTEMS = ['sysfs', 'tmpfs', 'bdev', 'proc', 'devtmpfs', 'devpts', 'overlay', 'mqueue', 'pipefs',
  'sockfs', 'anon_inodefs'].map((f) => `nodev\t${f}\n`).join('');

const sysTable: Record<string, Spec> = {
  kernel: dir({
    cap_last_cap: sysctl(() => '40\n'),
    domainname: sysctl((c) => kernelOf(c).domainname + '\n'),
    hostname: sysctl((c) => kernelOf(c).hostname + '\n'),
    ngroups_max: sysctl(() => '65536\n'),
    osrelease: sysctl(() => UTS_RELEASE + '\n'),
    ostype: sysctl(() => 'Linux\n'),
    overflowgid: sysctl(() => '65534\n'),
    overflowuid: sysctl(() => '65534\n'),
    pid_max: sysctl(() => '4194304\n'),
    random: dir({
      boot_id: sysctl(() => bootId + '\n'),
      entropy_avail: sysctl(() => '256\n'),
      poolsize: sysctl(() => '256\n'),
      uuid: sysctl(() => randomUUID() + '\n'),
    }),
    ...kernelIpcSysctls,
    shmall: sysctl(() => '18446744073692774399\n'),
    shmmax: sysctl(() => '18446744073692774399\n'),
    shmmni: sysctl(() => '4096\n'),
    'threads-max': sysctl(() => '257273\n'),
    version: sysctl(() => UTS_VERSION + '\n'),
  }),
  vm: dir({
    max_map_count: sysctl(() => '65530\n'),
    mmap_min_addr: sysctl(() => '65536\n'),
    overcommit_memory: sysctl(() => '0\n'),
    overcommit_ratio: sysctl(() => '50\n'),
  }),
  fs: dir({
    'file-max': sysctl(() => '9223372036854775807\n'),
    'nr_open': sysctl(() => '1048576\n'),
    'pipe-max-size': sysctl(() => '1048576\n'),
    mqueue: dir(mqueueSysctls),
  }),
  net: dir({
    // The limits setsockopt(SO_RCVBUF/SO_SNDBUF) applies (programs read them to size their requests).
    core: dir({
      rmem_default: sysctl(() => `${SOCK_DEFAULT_BUF}\n`),
      rmem_max: sysctl(() => `${RMEM_MAX}\n`),
      somaxconn: sysctl(() => '4096\n'),
      wmem_default: sysctl(() => `${SOCK_DEFAULT_BUF}\n`),
      wmem_max: sysctl(() => `${WMEM_MAX}\n`),
    }),
  }),
};

const rootTable: Record<string, Spec> = {
  self: link((c) => String(callerTask(c).tg.pid)),
  'thread-self': link((c) => {
    const t = callerTask(c);
    return `${t.tg.pid}/task/${t.tid}`;
  }),
  mounts: link(() => 'self/mounts'),
  net: link(() => 'self/net'),
  cmdline: file(() => `BOOT_IMAGE=/vmlinuz-${UTS_RELEASE}-tsvisor quiet\n`),
  cpuinfo: file(() => cpuinfo()),
  filesystems: text(FILESYSTEMS),
  loadavg: file((c) => {
    const k = kernelOf(c);
    const l = hostLoadavg();
    let last = 0;
    for (const id of k.tasks.keys()) last = Math.max(last, id);
    return `${l.map((x) => x.toFixed(2)).join(' ')} 1/${k.tasks.size} ${last}\n`;
  }),
  meminfo: file((c) => meminfo(kernelOf(c))),
  // One cgroup v2 hierarchy (hierarchy 0), as the cgroup mount shows (fsimpl/cgroupfs).
  cgroups: text('#subsys_name\thierarchy\tnum_cgroups\tenabled\n' +
    ['cpuset', 'cpu', 'cpuacct', 'blkio', 'memory', 'devices', 'freezer', 'net_cls', 'perf_event', 'net_prio',
      'hugetlb', 'pids', 'rdma', 'misc'].map((n) => `${n}\t0\t1\t1\n`).join('')),
  stat: file((c) => statText(kernelOf(c))),
  swaps: text('Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n'),
  uptime: file((c) => {
    const up = uptimeSec(kernelOf(c));
    return `${up.toFixed(2)} ${(up * HOST_CPUS).toFixed(2)}\n`;
  }),
  version: file(() => `Linux version ${UTS_RELEASE} (root@tsvisor) (gcc) ${UTS_VERSION}\n`),
  sys: dir(sysTable),
  sysvipc: dir(sysvipcTable),
};

function pidNumber(name: string): number {
  return /^[1-9][0-9]{0,9}$/.test(name) ? Number(name) : -1;
}

const fixed = tableOps(rootTable);

const rootOps: DirOps = {
  lookup(c: Caller, name: string, d: SynthDir): Inode | null {
    const n = fixed.lookup(c, name, d);
    if (n) return n;
    const id = pidNumber(name);
    if (id < 0 || !isTask(c)) return null;
    const k = c.kernel;
    // Threads are reachable by tid though only processes are listed, as in Linux.
    const tg = k.threadGroups.get(id);
    let t: Task | undefined = tg?.leader;
    if (!tg) t = k.tasks.get(id);
    if (!t) return null;
    return taskDir(t, t !== t.tg.leader)(d, name);
  },
  names(c: Caller): string[] {
    const names = Object.keys(rootTable);
    if (isTask(c)) for (const pid of [...c.kernel.threadGroups.keys()].sort((a, b) => a - b)) names.push(String(pid));
    return names;
  },
};

/** newProcFS makes a procfs instance. */
export function newProcFS(): ProcFS {
  const fs = new ProcFS();
  fs.root = new SynthDir(fs, '', 0o555, rootOwner, null, '', rootOps);
  return fs;
}

