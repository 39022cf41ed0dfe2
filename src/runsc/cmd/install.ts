// `runsc install` / `runsc uninstall`: register tsvisor as a Docker runtime
// in daemon.json, as gVisor's runsc install does. Flags after `--` become
// the runtime's runtimeArgs (Docker passes them before every command).
// Docker reads the file again on SIGHUP (`kill -HUP $(pidof dockerd)`).

import * as fs from 'node:fs';
import * as path from 'node:path';
import { ROOT } from '../../platform/ptrace/native.js';
import { RuntimeError } from '../container/state.js';
import { needArgs, parse, str, bool } from './common.js';
import type { CmdCtx } from './common.js';

const FLAGS = [
  { name: 'config-file', kind: 'string' as const, help: 'path to Docker\'s daemon.json', default: '/etc/docker/daemon.json' },
  { name: 'runtime', kind: 'string' as const, help: 'runtime name, as in docker run --runtime NAME', default: 'runsc' },
  { name: 'clobber', kind: 'bool' as const, help: 'replace an existing runtime of that name', default: true },
];

type DaemonJson = Record<string, unknown> & { runtimes?: Record<string, { path: string; runtimeArgs?: string[] }> };

function readConfig(file: string): DaemonJson {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw new RuntimeError(`reading ${file}: ${(e as Error).message}`);
  }
  if (text.trim() === '') return {};
  try {
    const v: unknown = JSON.parse(text);
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error('not a JSON object');
    return v as DaemonJson;
  } catch (e) {
    throw new RuntimeError(`${file}: ${(e as Error).message}`);
  }
}

function writeConfig(file: string, c: DaemonJson): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.tmp-${process.pid}`;
  fs.writeFileSync(tmp, JSON.stringify(c, null, 4) + '\n');
  fs.renameSync(tmp, file);
}

/** installCmd adds (or replaces) the runtime entry. */
export function installCmd(ctx: CmdCtx, args: string[]): number {
  const { values, rest } = parse(FLAGS, args);
  const file = str(values, 'config-file');
  const name = str(values, 'runtime');
  const c = readConfig(file);
  const runtimes = c.runtimes ?? {};
  if (runtimes[name] && !bool(values, 'clobber')) throw new RuntimeError(`runtime "${name}" already exists in ${file}`);
  // bin/runsc, not the Node binary: Docker execs the path with the runtime's argv.
  runtimes[name] = { path: path.join(ROOT, 'bin', 'runsc'), ...(rest.length ? { runtimeArgs: rest } : {}) };
  c.runtimes = runtimes;
  writeConfig(file, c);
  process.stdout.write(`runtime "${name}" added to ${file}; reload Docker: kill -HUP $(pidof dockerd)\n`);
  void ctx;
  return 0;
}

/** uninstallCmd removes the runtime entry. */
export function uninstallCmd(ctx: CmdCtx, args: string[]): number {
  const { values, rest } = parse(FLAGS, args);
  needArgs('uninstall', rest, 0, 0, '[--config-file F] [--runtime NAME]');
  const file = str(values, 'config-file');
  const name = str(values, 'runtime');
  const c = readConfig(file);
  if (!c.runtimes?.[name]) throw new RuntimeError(`runtime "${name}" not found in ${file}`);
  delete c.runtimes[name];
  writeConfig(file, c);
  void ctx;
  return 0;
}
