// pause, resume, update, checkpoint and restore.

import * as fs from 'node:fs';
import { applyResources } from '../container/cgroup.js';
import { openContainer, request } from '../container/container.js';
import type { Opened } from '../container/container.js';
import { Lock, RuntimeError, statusOf, writeState } from '../container/state.js';
import type { LinuxResources } from '../specutils/spec.js';
import { needArgs, parse, str } from './common.js';
import type { CmdCtx } from './common.js';

function locked<T>(ctx: CmdCtx, id: string, fn: (c: Opened) => T): T {
  const first = openContainer(ctx, id);
  const lock = Lock.acquire(first.dir, `container "${id}" does not exist`);
  try {
    return fn(openContainer(ctx, id));
  } finally {
    lock.unlock();
  }
}

/** pause holds every task of the container in the Sentry (no cgroup freezer:
 *  the sandbox process must keep serving its control socket). */
export function pauseCmd(ctx: CmdCtx, args: string[]): number {
  const { rest } = parse([], args);
  needArgs('pause', rest, 1, 1, '<container-id>');
  locked(ctx, rest[0], (c) => {
    const status = statusOf(c.dir, c.state);
    if (status !== 'running') throw new RuntimeError(`container not running: ${status}`);
    request(c, { op: 'pause' });
    c.state.status = 'paused';
    writeState(c.dir, c.state);
  });
  return 0;
}

export function resumeCmd(ctx: CmdCtx, args: string[]): number {
  const { rest } = parse([], args);
  needArgs('resume', rest, 1, 1, '<container-id>');
  locked(ctx, rest[0], (c) => {
    const status = statusOf(c.dir, c.state);
    if (status !== 'paused') throw new RuntimeError(`container not paused: ${status}`);
    request(c, { op: 'resume' });
    c.state.status = 'running';
    writeState(c.dir, c.state);
  });
  return 0;
}

function num(v: string, flag: string): number {
  const m = /^(-?\d+)([kmgKMG]?)$/.exec(v);
  if (!m) throw new RuntimeError(`invalid value "${v}" for --${flag}`);
  return Number(m[1]) * ({ '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[m[2].toLowerCase()] ?? 1);
}

/** update applies new resource limits: through the container's cgroup when it
 *  has one; they are recorded in its state either way. */
export function updateCmd(ctx: CmdCtx, args: string[]): number {
  const { values, rest } = parse([
    { name: 'resources', kind: 'string', help: 'path to a LinuxResources JSON file, or - for stdin', default: '' },
    { name: 'memory', kind: 'string', help: 'memory limit (bytes, or with k/m/g)', default: '' },
    { name: 'memory-swap', kind: 'string', help: 'memory+swap limit', default: '' },
    { name: 'memory-reservation', kind: 'string', help: 'memory soft limit', default: '' },
    { name: 'cpu-period', kind: 'string', help: 'CPU CFS period (us)', default: '' },
    { name: 'cpu-quota', kind: 'string', help: 'CPU CFS quota (us)', default: '' },
    { name: 'cpu-share', kind: 'string', help: 'CPU shares', default: '' },
    { name: 'cpuset-cpus', kind: 'string', help: 'CPUs to use', default: '' },
    { name: 'cpuset-mems', kind: 'string', help: 'memory nodes to use', default: '' },
    { name: 'pids-limit', kind: 'string', help: 'maximum number of tasks', default: '' },
    { name: 'blkio-weight', kind: 'string', help: 'block IO weight', default: '' },
  ], args, { r: 'resources' });
  needArgs('update', rest, 1, 1, '[flags] <container-id>');
  let r: LinuxResources = {};
  const file = str(values, 'resources');
  if (file) {
    try {
      r = JSON.parse(fs.readFileSync(file === '-' ? 0 : file, 'utf8')) as LinuxResources;
    } catch (e) {
      throw new RuntimeError(`reading resources from ${file === '-' ? 'stdin' : file}: ${(e as Error).message}`);
    }
    if (typeof r !== 'object' || r === null || Array.isArray(r)) throw new RuntimeError('resources must be a JSON object');
  }
  const f = (k: string): string => str(values, k);
  if (f('memory')) r.memory = { ...r.memory, limit: num(f('memory'), 'memory') };
  if (f('memory-swap')) r.memory = { ...r.memory, swap: num(f('memory-swap'), 'memory-swap') };
  if (f('memory-reservation')) r.memory = { ...r.memory, reservation: num(f('memory-reservation'), 'memory-reservation') };
  if (f('cpu-period')) r.cpu = { ...r.cpu, period: num(f('cpu-period'), 'cpu-period') };
  if (f('cpu-quota')) r.cpu = { ...r.cpu, quota: num(f('cpu-quota'), 'cpu-quota') };
  if (f('cpu-share')) r.cpu = { ...r.cpu, shares: num(f('cpu-share'), 'cpu-share') };
  if (f('cpuset-cpus')) r.cpu = { ...r.cpu, cpus: f('cpuset-cpus') };
  if (f('cpuset-mems')) r.cpu = { ...r.cpu, mems: f('cpuset-mems') };
  if (f('pids-limit')) r.pids = { limit: num(f('pids-limit'), 'pids-limit') };
  if (f('blkio-weight')) r.blockIO = { weight: num(f('blkio-weight'), 'blkio-weight') };
  locked(ctx, rest[0], (c) => {
    if (statusOf(c.dir, c.state) === 'stopped') throw new RuntimeError('container not running');
    applyResources(c.state.cgroupDirs, r, ctx.warn);
    const old = c.state.resources ?? {};
    c.state.resources = {
      ...old, ...r,
      memory: r.memory ? { ...old.memory, ...r.memory } : old.memory,
      cpu: r.cpu ? { ...old.cpu, ...r.cpu } : old.cpu,
    };
    writeState(c.dir, c.state);
  });
  return 0;
}

export function checkpointCmd(): number {
  throw new RuntimeError('checkpoint is not supported yet');
}

export function restoreCmd(): number {
  throw new RuntimeError('restore is not supported yet');
}
