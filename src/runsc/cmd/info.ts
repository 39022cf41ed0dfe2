// list, ps and events: what containers exist, what runs in one, and its
// resource usage.

import * as fs from 'node:fs';
import { cgroupStats } from '../container/cgroup.js';
import { ociState, openContainer, request } from '../container/container.js';
import { RuntimeError, listIDs, statusOf } from '../container/state.js';
import { call } from '../sandbox/control.js';
import { bool, needArgs, parse, str } from './common.js';
import type { CmdCtx } from './common.js';

/** table renders rows as columns separated by at least 3 spaces (runc's tabwriter look). */
function table(rows: string[][]): string {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i] + 3))).join('').trimEnd()).join('\n') + '\n';
}

export function listCmd(ctx: CmdCtx, args: string[]): number {
  const { values, rest } = parse([
    { name: 'format', kind: 'string', help: 'table or json', default: 'table' },
    { name: 'quiet', kind: 'bool', help: 'display only container ids', default: false },
  ], args, { f: 'format', q: 'quiet' });
  needArgs('list', rest, 0, 0, '[flags]');
  const format = str(values, 'format');
  if (format !== 'table' && format !== 'json') throw new RuntimeError(`invalid format option "${format}"`);
  const states = listIDs(ctx.conf.root).flatMap((id) => {
    try {
      return [ociState(openContainer(ctx, id))];
    } catch {
      return [];
    }
  });
  if (bool(values, 'quiet')) {
    for (const s of states) process.stdout.write(`${s.id}\n`);
  } else if (format === 'json') {
    process.stdout.write(JSON.stringify(states) + '\n');
  } else {
    const rows = [['ID', 'PID', 'STATUS', 'BUNDLE', 'CREATED', 'OWNER'],
      ...states.map((s) => [s.id, String(s.pid), s.status, s.bundle, String(s.created), String(s.owner)])];
    process.stdout.write(table(rows));
  }
  return 0;
}

function hms(secs: number): string {
  const s = Math.max(0, Math.floor(secs));
  return `${String(Math.floor(s / 3600)).padStart(2, '0')}:${String(Math.floor(s / 60) % 60).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}`;
}

/** ps: the container's processes; with --format json the host pids backing them (for docker top). */
export function psCmd(ctx: CmdCtx, args: string[]): number {
  const { values, rest } = parse([
    { name: 'format', kind: 'string', help: 'table or json', default: 'table' },
  ], args, { f: 'format' });
  if (rest.length < 1) needArgs('ps', rest, 1, 1, '[flags] <container-id> [ps options]');
  const format = str(values, 'format');
  if (format !== 'table' && format !== 'json') throw new RuntimeError(`invalid format option "${format}"`);
  const c = openContainer(ctx, rest[0]);
  const status = statusOf(c.dir, c.state);
  if (status === 'stopped') {
    if (format === 'json') process.stdout.write('[]\n');
    else process.stdout.write(table([['UID', 'PID', 'PPID', 'C', 'STIME', 'TIME', 'CMD']]));
    return 0;
  }
  const procs = request(c, { op: 'ps' }).procs ?? [];
  // The sandbox names its stubs by the pids of its own PID namespace.
  const toHost = hostPidMap(c.state.pid);
  if (format === 'json') {
    process.stdout.write(JSON.stringify(procs.map((p) => toHost.get(p.hostPid) ?? p.hostPid)) + '\n');
    return 0;
  }
  const rows = [['UID', 'PID', 'PPID', 'C', 'STAT', 'STIME', 'TIME', 'CMD'],
    ...procs.map((p) => [String(p.uid), String(p.pid), String(p.ppid), '0', p.state, hms(p.start), '00:00:00', p.cmd])];
  process.stdout.write(table(rows));
  return 0;
}

/** hostPidMap maps the pids the sandbox process sees (its PID namespace's)
 *  of its children, the stubs, to host pids, from the host's /proc. */
export function hostPidMap(sandboxPid: number): Map<number, number> {
  const m = new Map<number, number>();
  let kids: number[] = [];
  try {
    for (const t of fs.readdirSync(`/proc/${sandboxPid}/task`)) {
      const c = fs.readFileSync(`/proc/${sandboxPid}/task/${t}/children`, 'utf8').trim();
      if (c) kids.push(...c.split(/\s+/).map(Number));
    }
  } catch {
    kids = [];
  }
  for (const k of kids) {
    try {
      const ns = /^NSpid:\s*(.*)$/m.exec(fs.readFileSync(`/proc/${k}/status`, 'utf8'))?.[1].trim().split(/\s+/).map(Number);
      if (ns && ns.length > 1) m.set(ns[ns.length - 1], k);
    } catch {
      // gone
    }
  }
  return m;
}

/** parseDuration reads a Go duration ("5s", "100ms", "1m30s"). */
export function parseDuration(s: string): number {
  const units: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  let ms = 0;
  let rest = s;
  if (rest === '0') return 0;
  while (rest.length) {
    const m = /^(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/.exec(rest);
    if (!m) throw new RuntimeError(`invalid duration "${s}"`);
    ms += Number(m[1]) * units[m[2]];
    rest = rest.slice(m[0].length);
  }
  return ms;
}

/** events prints the container's stats as JSON lines, every --interval (once with --stats). */
export async function eventsCmd(ctx: CmdCtx, args: string[]): Promise<number> {
  const { values, rest } = parse([
    { name: 'stats', kind: 'bool', help: 'display the container\'s stats once, then exit', default: false },
    { name: 'interval', kind: 'string', help: 'the interval between stats (a duration)', default: '5s' },
  ], args);
  needArgs('events', rest, 1, 1, '[flags] <container-id>');
  const interval = parseDuration(str(values, 'interval'));
  if (interval <= 0) throw new RuntimeError('duration interval must be greater than 0');
  const c = openContainer(ctx, rest[0]);
  const once = bool(values, 'stats');
  for (;;) {
    if (statusOf(c.dir, c.state) === 'stopped') {
      if (once) throw new RuntimeError(`container "${c.id}" is not running`);
      return 0;
    }
    let data: Record<string, unknown>;
    try {
      const r = call(c.dir, { op: 'stats' });
      // The cgroup's files are read here: the confined sandbox has no /sys.
      data = { ...(r.stats ?? {}), ...cgroupStats(c.state.cgroupDirs) };
    } catch {
      data = cgroupStats(c.state.cgroupDirs);
    }
    process.stdout.write(JSON.stringify({ type: 'stats', id: c.id, data }) + '\n');
    if (once) return 0;
    await new Promise((r) => setTimeout(r, interval));
  }
}
