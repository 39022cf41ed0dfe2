// `runsc do CMD [ARGS...]`: sandbox one command with no bundle. The host root
// is the guest's root, read-only with an in-memory writable layer on top; the
// caller's environment, working directory and stdio are passed through.

import { existsSync, readFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { FlagError, parseFlags } from '../config/flags.js';
import type { FlagSpec } from '../config/flags.js';
import type { Config } from '../config/config.js';
import { runSandbox } from '../sandbox/do_sandbox.js';

export const DO_FLAGS: FlagSpec[] = [
  { name: 'root', kind: 'string', help: 'root directory of the sandbox', default: '/' },
  { name: 'cwd', kind: 'string', help: 'working directory inside the sandbox (default: the current one)', default: '' },
  { name: 'ip', kind: 'string', help: 'IPv4 address of the sandbox (network=sandbox)', default: '' },
  { name: 'quiet', kind: 'bool', help: 'suppress runsc messages', default: false },
  { name: 'force-overlay', kind: 'bool', help: 'use an overlay for the root (always on: false, which gVisor has to give the command write access to the host, is refused)', default: true },
  { name: 'volume', kind: 'list', help: 'bind mount SRC:DST[:ro] of a host path (repeatable)', default: [] },
];

/** callerEnviron is runsc's environment in its original order (process.env reorders it). */
function callerEnviron(): string[] {
  try {
    return undoLauncherEnv(readFileSync('/proc/self/environ', 'latin1').split('\0').filter((e) => e.includes('=')));
  } catch {
    return Object.entries(process.env).map(([k, v]) => `${k}=${v}`);
  }
}

/** undoLauncherEnv restores what bin/runsc's shebang changed: it emptied
 *  NODE_EXTRA_CA_CERTS (in place) and saved its value in TSVISOR_CA_CERTS
 *  (appended). */
export function undoLauncherEnv(env: string[]): string[] {
  const savedAt = env.findIndex((e) => e.startsWith('TSVISOR_CA_CERTS='));
  if (savedAt < 0) return env;
  const saved = env[savedAt].slice('TSVISOR_CA_CERTS='.length);
  const out: string[] = [];
  for (const [i, e] of env.entries()) {
    if (i === savedAt) continue;
    if (e === 'NODE_EXTRA_CA_CERTS=') {
      if (saved) out.push(`NODE_EXTRA_CA_CERTS=${saved}`);
      continue;
    }
    out.push(e);
  }
  return out;
}

export async function doCmd(conf: Config, args: string[]): Promise<number> {
  const { values, rest } = parseFlags(DO_FLAGS, args);
  if (rest.length === 0) {
    process.stderr.write('usage: runsc do [flags] <cmd> [cmd args...]\n');
    return 2;
  }
  // gVisor's do writes to the host root with --force-overlay=false; tsvisor
  // does not offer that (its guest /etc files would land on the host): a
  // writable host directory is a --volume.
  if (values['force-overlay'] === false || conf.overlay2 === 'none') {
    throw new FlagError('do: the root is always an overlay (--force-overlay=false and --overlay2=none are not supported); use --volume HOSTDIR:GUESTDIR for a writable host directory');
  }
  const root = path.resolve(values.root as string);
  const cwd = (values.cwd as string) || process.cwd();
  const volumes = (values.volume as string[]).map((v) => {
    const [src, dst, mode] = v.split(':');
    if (!src || !dst || !existsSync(src)) throw new Error(`bad --volume ${v}: want HOSTPATH:GUESTPATH[:ro]`);
    return { hostPath: path.resolve(src), guestPath: dst, readonly: mode === 'ro' };
  });
  const envp = callerEnviron();
  // argv[0] stays as given (sh -c 'echo $0' says sh, as natively and under
  // gVisor): the guest's execvp searches its PATH for a name without a slash.
  const argv = [...rest];
  return runSandbox(conf, { argv, envp, cwd, hostRoot: root, volumes, hostname: os.hostname(), ip: values.ip as string });
}
