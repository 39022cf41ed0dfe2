// create, start, run, kill, delete, state and wait: the OCI lifecycle
// commands, spelled as runc and gVisor spell them.

import type { FlagSpec } from '../config/flags.js';
import {
  createContainer, deleteContainer, killContainer, ociState, openContainer, startContainer,
} from '../container/container.js';
import type { Launched, Opened } from '../container/container.js';
import { parseSignal } from '../container/signal.js';
import { RuntimeError, readExit } from '../container/state.js';
import { ControlUnavailable, call, open } from '../sandbox/control.js';
import { exitCode, waitFor } from '../sandbox/wait.js';
import { bool, needArgs, parse, str } from './common.js';
import type { CmdCtx } from './common.js';

const CREATE_FLAGS: FlagSpec[] = [
  { name: 'bundle', kind: 'string', help: 'path to the root of the bundle directory (default: the current directory)', default: '' },
  { name: 'pid-file', kind: 'string', help: 'file to write the process id to', default: '' },
  { name: 'console-socket', kind: 'string', help: 'unix socket that receives the pty master of a terminal container', default: '' },
  { name: 'no-pivot', kind: 'bool', help: 'accepted for runc compatibility', default: false },
  { name: 'no-new-keyring', kind: 'bool', help: 'accepted for runc compatibility', default: false },
  { name: 'preserve-fds', kind: 'int', help: 'accepted; extra fds are not passed on', default: 0 },
  { name: 'user-log', kind: 'string', help: 'accepted (gVisor)', default: '' },
];
const RUN_FLAGS: FlagSpec[] = [
  ...CREATE_FLAGS,
  { name: 'detach', kind: 'bool', help: 'detach from the container: do not wait for it to exit', default: false },
  { name: 'keep', kind: 'bool', help: 'keep the container\'s state after it exits', default: false },
  { name: 'no-subreaper', kind: 'bool', help: 'accepted for runc compatibility', default: false },
];
const ALIASES = { b: 'bundle', d: 'detach' };

export async function create(ctx: CmdCtx, args: string[]): Promise<number> {
  const { values, rest } = parse(CREATE_FLAGS, args, ALIASES);
  needArgs('create', rest, 1, 1, '[flags] <container-id>');
  await createContainer(ctx, {
    id: rest[0], bundle: str(values, 'bundle'), pidFile: str(values, 'pid-file'),
    consoleSocket: str(values, 'console-socket'), detached: true,
  });
  return 0;
}

export function start(ctx: CmdCtx, args: string[]): number {
  const { rest } = parse([], args);
  needArgs('start', rest, 1, 1, '<container-id>');
  startContainer(ctx, rest[0]);
  return 0;
}

/** Signals `run` and `exec` in the foreground pass on to the container. */
export const FORWARDED: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2', 'SIGWINCH'];

/** waitExit resolves with the wait status of init (or pid), or null if unknown. */
function waitExit(c: Opened, pid?: number): Promise<number | null> {
  return new Promise((resolve) => {
    let done = false;
    const fromFile = (): void => {
      if (done) return;
      done = true;
      resolve(pid === undefined ? readExit(c.dir)?.status ?? null : null);
    };
    try {
      const s = open(c.dir, { op: 'wait', pid }, [], (r) => {
        if (done) return;
        if (r.exit !== undefined) {
          done = true;
          s.close();
          resolve(r.exit);
        } else if (r.error) {
          done = true;
          s.close();
          resolve(null);
        }
      }, fromFile);
    } catch (e) {
      if (!(e instanceof ControlUnavailable)) throw e;
      fromFile();
    }
  });
}

export async function run(ctx: CmdCtx, args: string[]): Promise<number> {
  const { values, rest } = parse(RUN_FLAGS, args, ALIASES);
  needArgs('run', rest, 1, 1, '[flags] <container-id>');
  const opts = {
    id: rest[0], bundle: str(values, 'bundle'), pidFile: str(values, 'pid-file'),
    consoleSocket: str(values, 'console-socket'),
  };
  if (bool(values, 'detach')) {
    const c = await createContainer(ctx, { ...opts, detached: true });
    startContainer(ctx, c.id);
    return 0;
  }
  // In the foreground the sandbox is a child of this process, in this
  // process's session, so the caller's terminal, signals (relayed) and exit
  // status are the container's, as with runc run.
  const c = await createContainer(ctx, { ...opts, detached: false });
  try {
    startContainer(ctx, c.id);
  } catch (e) {
    deleteContainer(ctx, c.id, true);
    throw e;
  }
  const status = await waitFor(c.state.pid);
  const sig = status & 0x7f;
  const code = sig ? 128 + sig : (status >> 8) & 0xff;
  if (!bool(values, 'keep')) deleteContainer(ctx, c.id, true);
  return code;
}

export function kill(ctx: CmdCtx, args: string[]): number {
  const { values, rest } = parse([
    { name: 'all', kind: 'bool', help: 'send the signal to every process of the container', default: false },
    { name: 'pid', kind: 'int', help: 'send the signal to this process (a pid inside the container)', default: 0 },
  ], args, { a: 'all' });
  needArgs('kill', rest, 1, 2, '[flags] <container-id> [signal]');
  const sig = parseSignal(rest[1] ?? 'TERM');
  const pid = values.pid as number;
  if (pid > 0) {
    const c = openContainer(ctx, rest[0]);
    const r = call(c.dir, { op: 'kill', signal: sig, pid });
    if (r.error) throw new RuntimeError(r.error);
    return 0;
  }
  killContainer(ctx, rest[0], sig, bool(values, 'all'));
  return 0;
}

export function del(ctx: CmdCtx, args: string[]): number {
  const { values, rest } = parse([
    { name: 'force', kind: 'bool', help: 'kill the container first if it still runs', default: false },
  ], args, { f: 'force' });
  if (rest.length === 0) needArgs('delete', rest, 1, 1, '[flags] <container-id>...');
  for (const id of rest) deleteContainer(ctx, id, bool(values, 'force'));
  return 0;
}

export function state(ctx: CmdCtx, args: string[]): number {
  const { rest } = parse([], args);
  needArgs('state', rest, 1, 1, '<container-id>');
  const c = openContainer(ctx, rest[0]);
  process.stdout.write(JSON.stringify(ociState(c), null, 2) + '\n');
  return 0;
}

/** wait prints {"id":..., "exitStatus": N} once the container (or --pid) exits, as gVisor does. */
export async function wait(ctx: CmdCtx, args: string[]): Promise<number> {
  const { values, rest } = parse([
    { name: 'pid', kind: 'int', help: 'wait for this process (a pid inside the container) instead of init', default: 0 },
    { name: 'rootpid', kind: 'int', help: 'same as -pid', default: 0 },
  ], args);
  needArgs('wait', rest, 1, 1, '[flags] <container-id>');
  const c = openContainer(ctx, rest[0]);
  const pid = (values.pid as number) || (values.rootpid as number) || undefined;
  const status = await waitExit(c, pid);
  if (status === null) {
    throw new RuntimeError(`waiting on container "${c.id}": the sandbox is gone and its exit status is unavailable`);
  }
  process.stdout.write(JSON.stringify({ id: c.id, exitStatus: exitCode(status) }) + '\n');
  return 0;
}
