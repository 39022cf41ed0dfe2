// `runsc exec`: a new process in a running container. The process is
// described by --process FILE (what containerd sends) or by the command line
// (args, --cwd, --env, --user, --tty) on top of the container's own process.
//
// The process runs in the sandbox's kernel; this command stays on the host
// as its proxy: it hands its stdio (or a new pty's slave) to the sandbox,
// forwards the signals it receives, and exits with the process's status. With
// --detach it starts such a proxy in the background, writes the proxy's pid to
// --pid-file (the caller reaps that pid and takes its status), and returns.

import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { isatty } from 'node:tty';
import { check, native } from '../../platform/ptrace/native.js';
import type { FlagSpec } from '../config/flags.js';
import { openContainer, openPty, sendConsole, writePidFile } from '../container/container.js';
import type { Opened, Pty } from '../container/container.js';
import { RuntimeError, statusOf } from '../container/state.js';
import { ControlUnavailable, call, open } from '../sandbox/control.js';
import { MAIN_JS, nodeArgs, runscEnv } from '../sandbox/sandbox.js';
import { checkProcess, loadSpec } from '../specutils/spec.js';
import type { Process } from '../specutils/spec.js';
import { SpecError } from '../specutils/spec.js';
import { exitCode } from '../sandbox/wait.js';
import { bool, needArgs, parse, str } from './common.js';
import type { CmdCtx } from './common.js';
import { FORWARDED } from './lifecycle.js';

const EXEC_FLAGS: FlagSpec[] = [
  { name: 'process', kind: 'string', help: 'path to a process.json (an OCI process object)', default: '' },
  { name: 'cwd', kind: 'string', help: 'current working directory in the container', default: '' },
  { name: 'env', kind: 'list', help: 'set an environment variable (repeatable)', default: [] },
  { name: 'user', kind: 'string', help: 'UID[:GID] to run as', default: '' },
  { name: 'additional-gids', kind: 'list', help: 'additional gid (repeatable)', default: [] },
  { name: 'tty', kind: 'bool', help: 'allocate a pseudo-TTY', default: false },
  { name: 'console-socket', kind: 'string', help: 'unix socket that receives the pty master', default: '' },
  { name: 'detach', kind: 'bool', help: 'detach from the process', default: false },
  { name: 'pid-file', kind: 'string', help: 'file to write the process id to', default: '' },
  { name: 'internal-pid-file', kind: 'string', help: 'accepted (gVisor)', default: '' },
  { name: 'cap', kind: 'list', help: 'add a capability to the bounding, effective and permitted sets', default: [] },
  { name: 'no-new-privs', kind: 'bool', help: 'set no_new_privs', default: false },
  { name: 'process-label', kind: 'string', help: 'accepted (SELinux)', default: '' },
  { name: 'apparmor', kind: 'string', help: 'accepted (AppArmor)', default: '' },
  { name: 'preserve-fds', kind: 'int', help: 'accepted; extra fds are not passed on', default: 0 },
  { name: 'ignore-paused', kind: 'bool', help: 'allow exec in a paused container', default: false },
  // Internal: the background proxy started by --detach reports on this fd.
  { name: 'ready-fd', kind: 'int', help: 'internal', default: -1 },
];
const SPAWN_SETSID = 1;
const TIOCSCTTY = 0x540e;
/** Signals a terminal's driver sends its foreground process group. */
const TTY_SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGQUIT', 'SIGTSTP', 'SIGWINCH'];
const AF_UNIX = 1;
const SOCK_STREAM = 1;
const SOCK_CLOEXEC = 0o2000000;

/** execProcess builds the process to exec from the flags. */
function execProcess(c: Opened, v: Record<string, unknown>, args: string[]): Process {
  const file = v.process as string;
  if (file) {
    let obj: unknown;
    try {
      obj = JSON.parse(fs.readFileSync(file, 'utf8'));
    } catch (e) {
      throw new SpecError(`reading process file ${file}: ${(e as Error).message}`);
    }
    return checkProcess(obj, 'process');
  }
  if (args.length === 0) throw new RuntimeError('exec: no command given; usage: runsc exec [flags] <container-id> <command> [args...]');
  let base: Process | undefined;
  try {
    base = loadSpec(c.state.bundle).process;
  } catch {
    base = undefined;
  }
  const p: Process = {
    ...(base ?? { user: { uid: 0, gid: 0 }, cwd: '/' }),
    args,
    terminal: v.tty === true,
  };
  p.env = [...(base?.env ?? ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin']), ...(v.env as string[])];
  if (v.cwd) p.cwd = v.cwd as string;
  const user = v.user as string;
  if (user) {
    const m = /^(\d+)(?::(\d+))?$/.exec(user);
    if (!m) throw new RuntimeError(`exec: --user wants UID[:GID], got "${user}"`);
    p.user = { ...p.user, uid: Number(m[1]), gid: m[2] !== undefined ? Number(m[2]) : 0 };
  }
  const gids = (v['additional-gids'] as string[]).map(Number);
  if (gids.length) p.user = { ...p.user, additionalGids: gids };
  const caps = v.cap as string[];
  if (caps.length && p.capabilities) {
    const add = (l?: string[]) => [...new Set([...(l ?? []), ...caps])];
    p.capabilities = { ...p.capabilities, bounding: add(p.capabilities.bounding), effective: add(p.capabilities.effective),
      permitted: add(p.capabilities.permitted) };
  }
  if (v['no-new-privs'] === true) p.noNewPrivileges = true;
  return checkProcess(p, 'process');
}

/** proxy runs p in the container and resolves with its wait status; netRaw
 *  (--net-raw) lets it keep CAP_NET_RAW. */
function proxy(c: Opened, p: Process, stdio: number[], netRaw: boolean, onStarted: (pid: number) => void): Promise<number> {
  // A terminal process: the terminal's driver signals its foreground group
  // (this process, once the terminal is its controlling one; see
  // container_boot.ts), and those signals go to the guest's foreground group.
  const tty = p.terminal === true && isatty(stdio[0]);
  if (tty) native.ioctl(stdio[0], TIOCSCTTY, null, 0);
  const signals = tty ? [...new Set([...FORWARDED, ...TTY_SIGNALS])] : FORWARDED;
  return new Promise((resolve, reject) => {
    let pid = 0;
    let settled = false;
    const forward = (sig: NodeJS.Signals): void => {
      if (!pid) return;
      try {
        call(c.dir, { op: 'kill', pid, signal: os.constants.signals[sig], foreground: tty && TTY_SIGNALS.includes(sig) });
      } catch {
        // The process or the sandbox is gone.
      }
    };
    const finish = (f: () => void): void => {
      if (settled) return;
      settled = true;
      for (const s of signals) process.off(s, forward);
      f();
    };
    for (const s of signals) process.on(s, forward);
    let stream: { close(): void };
    try {
      stream = open(c.dir, { op: 'exec', process: p, netRaw }, stdio, (r) => {
        if (r.error) {
          finish(() => reject(new RuntimeError(r.error)));
          stream.close();
        } else if (r.exit !== undefined) {
          finish(() => resolve(r.exit!));
          stream.close();
        } else if (r.pid) {
          pid = r.pid;
          onStarted(pid);
        }
      }, () => finish(() => (pid ? resolve(9) : reject(new RuntimeError(`container "${c.id}": the sandbox hung up`)))));
    } catch (e) {
      finish(() => reject(e instanceof ControlUnavailable ? new RuntimeError(`container "${c.id}" is not running`) : e));
    }
  });
}

/** readLine reads one line from fd (the detached proxy's report). */
function readLine(fd: number): Promise<string> {
  return new Promise((resolve) => {
    const sock = new net.Socket({ fd, readable: true, writable: false });
    let text = '';
    sock.setEncoding('utf8');
    sock.on('data', (d: string) => {
      text += d;
      if (text.includes('\n')) sock.destroy();
    });
    sock.on('error', () => {});
    sock.on('close', () => resolve(text.split('\n')[0]));
  });
}

export async function exec(ctx: CmdCtx, args: string[]): Promise<number> {
  const { values, rest } = parse(EXEC_FLAGS, args, { p: 'process', e: 'env', u: 'user', t: 'tty', d: 'detach', g: 'additional-gids' });
  if (rest.length < 1) needArgs('exec', rest, 1, 1, '[flags] <container-id> [command [args...]]');
  const c = openContainer(ctx, rest[0]);
  const status = statusOf(c.dir, c.state);
  if (status === 'stopped' || status === 'creating') throw new RuntimeError('cannot exec in a stopped container');
  if (status === 'paused' && !bool(values, 'ignore-paused')) throw new RuntimeError('cannot exec in a paused container');
  const p = execProcess(c, values, rest.slice(1));
  const consoleSocket = str(values, 'console-socket');
  const detach = bool(values, 'detach');
  if (p.terminal && !consoleSocket && detach) {
    throw new RuntimeError('cannot allocate tty if runsc will detach without setting console socket');
  }
  let pty: Pty | null = null;
  if (p.terminal && consoleSocket) {
    pty = openPty(p.consoleSize);
    sendConsole(consoleSocket, pty.master);
    fs.closeSync(pty.master);
  }
  const stdio = pty ? [pty.slave, pty.slave, pty.slave] : [0, 1, 2];
  const readyFd = values['ready-fd'] as number;
  if (!detach) {
    const st = await proxy(c, p, stdio, ctx.conf.netRaw, (pid) => {
      if (str(values, 'pid-file')) writePidFile(str(values, 'pid-file'), process.pid);
      if (readyFd >= 0) {
        fs.writeSync(readyFd, JSON.stringify({ ok: true, pid }) + '\n');
        fs.closeSync(readyFd);
      }
    }).catch((e: unknown) => {
      if (readyFd >= 0) {
        fs.writeSync(readyFd, JSON.stringify({ error: e instanceof Error ? e.message : String(e) }) + '\n');
        fs.closeSync(readyFd);
      }
      throw e;
    });
    if (pty) fs.closeSync(pty.slave);
    return exitCode(st);
  }
  // Detached: a background proxy (this command without --detach) holds the process.
  const procFile = path.join(c.dir, `exec-${process.pid}-${Date.now()}.json`);
  fs.writeFileSync(procFile, JSON.stringify(p), { mode: 0o600 });
  const pair = new Int32Array(2);
  check('socketpair', native.socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, pair));
  const argv = [process.execPath, ...nodeArgs(), MAIN_JS, ...ctx.globalArgs, '--root', ctx.conf.root,
    'exec', '--process', procFile, '--ready-fd', '3', c.id];
  const env = runscEnv();
  const pid = native.spawn(process.execPath, argv, env, new Int32Array([...stdio, pair[1]]), SPAWN_SETSID);
  fs.closeSync(pair[1]);
  if (pty) fs.closeSync(pty.slave);
  if (pid < 0) {
    fs.closeSync(pair[0]);
    fs.rmSync(procFile, { force: true });
    check('spawn exec proxy', pid);
  }
  const line = await readLine(pair[0]);
  fs.rmSync(procFile, { force: true });
  let r: { ok?: boolean; error?: string; pid?: number } = {};
  try {
    r = JSON.parse(line) as typeof r;
  } catch {
    r = { error: 'the exec process died while starting' };
  }
  if (!r.ok) throw new RuntimeError(r.error ?? 'exec failed');
  if (str(values, 'pid-file')) writePidFile(str(values, 'pid-file'), pid);
  return 0;
}
