// The sandbox's control socket, `<state dir>/sandbox.sock`: how runsc
// commands (start, kill, exec, ps, pause, wait...) reach the sandbox process
// of a container. A Unix stream socket carrying JSON lines; a request may
// carry host fds (SCM_RIGHTS: the stdio of an exec'd process), so both ends
// use the native socket primitives for the request. Replies are JSON lines;
// exec and wait answer a second time when the process exits.
//
// The server side runs in the sandbox process, which must not use
// node:child_process nor block: it polls its non-blocking sockets from a
// timer (the kernel's run loop yields to the event loop every 10 ms).

import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { native } from '../../platform/ptrace/native.js';
import type { NetworkConfig } from '../../sentry/socket/netstack/stack.js';

export interface ControlRequest {
  op: 'start' | 'kill' | 'exec' | 'wait' | 'ps' | 'pause' | 'resume' | 'stats' | 'network';
  signal?: number;
  all?: boolean;
  /** pid: a guest pid (kill, wait of one process). */
  pid?: number;
  /** foreground (kill with pid): signal the foreground process group of
   *  pid's terminal instead, as the terminal driver does for ^C. */
  foreground?: boolean;
  /** process: an OCI process object (exec). */
  process?: unknown;
  /** netRaw (exec): the exec command's --net-raw; without it the process loses CAP_NET_RAW. */
  netRaw?: boolean;
  /** network: interfaces to attach before start (boot/netns.ts); each fd indexes the fds sent along. */
  network?: NetworkConfig;
  /** files (network): single-file bind mounts the hooks rewrote, as they are now, to copy in again (Docker's resolv.conf). */
  files?: { path: string; data: string }[];
}

export interface ProcessInfo {
  pid: number;
  ppid: number;
  hostPid: number;
  uid: number;
  state: string;
  /** start is seconds since the sandbox booted; cmd the argv joined. */
  start: number;
  cmd: string;
}

export interface ControlReply {
  ok?: boolean;
  error?: string;
  pid?: number;
  /** exit: a wait status, once the process waited for has exited. */
  exit?: number;
  procs?: ProcessInfo[];
  stats?: Record<string, unknown>;
}

const SOCK_NAME = 'sandbox.sock';
/** sun_path holds 108 bytes with the NUL. */
const SUN_PATH_MAX = 107;
const MSG_DONTWAIT = 0x40;
const EAGAIN = 11;
const EINTR = 4;

/** socketPath returns a path for dir's socket that fits in sun_path: long
 *  state directories (Docker's are) are reached through /proc/self/fd. The
 *  returned release closes the directory fd that path needs. */
function socketPath(dir: string): { path: string; release: () => void } {
  const p = path.join(dir, SOCK_NAME);
  if (Buffer.byteLength(p) <= SUN_PATH_MAX) return { path: p, release: () => {} };
  const fd = fs.openSync(dir, fs.constants.O_RDONLY | fs.constants.O_DIRECTORY);
  return { path: `/proc/self/fd/${fd}/${SOCK_NAME}`, release: () => fs.closeSync(fd) };
}

/** connectUnix connects to the Unix socket at file, however long its path;
 *  returns the fd or -errno. */
export function connectUnix(file: string): number {
  if (Buffer.byteLength(file) <= SUN_PATH_MAX) return native.unixConnect(file);
  let dirFd: number;
  try {
    dirFd = fs.openSync(path.dirname(file), fs.constants.O_RDONLY | fs.constants.O_DIRECTORY);
  } catch {
    return -2; // ENOENT
  }
  try {
    return native.unixConnect(`/proc/self/fd/${dirFd}/${path.basename(file)}`);
  } finally {
    fs.closeSync(dirFd);
  }
}

/** ControlUnavailable: nobody answers on the socket (the sandbox is gone). */
export class ControlUnavailable extends Error {}

/** connect opens a connection to the sandbox of state directory dir and sends req with fds. */
function connect(dir: string, req: ControlRequest, fds: number[]): number {
  const fd = connectUnix(path.join(dir, SOCK_NAME));
  if (fd < 0) throw new ControlUnavailable(`cannot reach the sandbox (errno ${-fd})`);
  const data = Buffer.from(JSON.stringify(req) + '\n');
  const r = native.sendFds(fd, new Int32Array(fds), data);
  if (r !== data.length) {
    fs.closeSync(fd);
    throw new ControlUnavailable(`cannot send to the sandbox (${r < 0 ? `errno ${-r}` : 'short write'})`);
  }
  return fd;
}

/** call sends one request and waits (blocking, at most timeoutMs) for its first reply. */
export function call(dir: string, req: ControlRequest, fds: number[] = [], timeoutMs = 30_000): ControlReply {
  const fd = connect(dir, req, fds);
  try {
    const buf = new Uint8Array(1 << 16);
    const noFds = new Int32Array(0);
    const deadline = Date.now() + timeoutMs;
    let text = '';
    for (;;) {
      const n = native.recvFds(fd, buf, noFds, MSG_DONTWAIT);
      if (n === -EAGAIN || n === -EINTR) {
        if (Date.now() > deadline) throw new ControlUnavailable(`the sandbox did not answer ${req.op} within ${timeoutMs} ms`);
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1);
        continue;
      }
      if (n <= 0) throw new ControlUnavailable(n === 0 ? 'the sandbox closed the connection' : `reading from the sandbox: errno ${-n}`);
      text += Buffer.from(buf.buffer, 0, n).toString('utf8');
      const nl = text.indexOf('\n');
      if (nl >= 0) return JSON.parse(text.slice(0, nl)) as ControlReply;
    }
  } finally {
    fs.closeSync(fd);
  }
}

/** Stream is a request whose replies come over time (exec, wait). */
export interface Stream {
  /** close hangs up (for exec: the sandbox then kills the process). */
  close(): void;
}

/** open sends req and calls onReply for every reply; onEnd when the sandbox hangs up. */
export function open(dir: string, req: ControlRequest, fds: number[], onReply: (r: ControlReply) => void,
  onEnd: () => void): Stream {
  const fd = connect(dir, req, fds);
  const sock = new net.Socket({ fd, readable: true, writable: false });
  let text = '';
  sock.setEncoding('utf8');
  sock.on('data', (d: string) => {
    text += d;
    let nl: number;
    while ((nl = text.indexOf('\n')) >= 0) {
      const line = text.slice(0, nl);
      text = text.slice(nl + 1);
      try {
        onReply(JSON.parse(line) as ControlReply);
      } catch {
        // A malformed line is dropped; the next one may still come.
      }
    }
  });
  sock.on('error', () => {});
  sock.on('close', onEnd);
  return { close: () => sock.destroy() };
}

// ---- Server side (the sandbox process) ----

/** Conn is one client connection in the sandbox. */
export class Conn {
  closed = false;
  private readonly closeHooks: (() => void)[] = [];

  constructor(readonly fd: number) {}

  /** send writes one reply; a client that went away is ignored. */
  send(r: ControlReply): void {
    if (this.closed) return;
    const data = Buffer.from(JSON.stringify(r) + '\n');
    let off = 0;
    for (let tries = 0; off < data.length && tries < 1000; tries++) {
      const n = native.sendFds(this.fd, new Int32Array(0), data.subarray(off));
      if (n > 0) off += n;
      else if (n !== -EAGAIN && n !== -EINTR) return;
    }
  }

  /** onClose runs fn when the client hangs up (or the server closes the connection). */
  onClose(fn: () => void): void {
    if (this.closed) fn();
    else this.closeHooks.push(fn);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    try {
      fs.closeSync(this.fd);
    } catch {
      // already gone
    }
    for (const f of this.closeHooks.splice(0)) f();
  }
}

export type Handler = (req: ControlRequest, fds: number[], conn: Conn) => void;

interface ConnState {
  conn: Conn;
  text: string;
  fds: number[];
}

/** How often the server looks for connections and requests: often while
 *  commands come (a create is followed by a start), rarely when idle. */
const POLL_BUSY_MS = 5;
const POLL_IDLE_MS = 50;
const BUSY_FOR_MS = 2000;

/** ControlServer listens on dir's socket and hands each request to handler. */
export class ControlServer {
  private readonly listenFd: number;
  private readonly conns = new Set<ConnState>();
  private timer: NodeJS.Timeout | null = null;
  private lastActivity = Date.now();
  private closed = false;
  private readonly buf = Buffer.alloc(1 << 16);
  private readonly fdsBuf = new Int32Array(16);
  private readonly file: string;

  constructor(dir: string, private readonly handler: Handler) {
    this.file = path.join(dir, SOCK_NAME);
    fs.rmSync(this.file, { force: true });
    const sp = socketPath(dir);
    try {
      this.listenFd = native.unixListen(sp.path, 64);
    } finally {
      sp.release();
    }
    if (this.listenFd < 0) throw new Error(`listen on ${this.file}: errno ${-this.listenFd}`);
    this.schedule();
  }

  private schedule(): void {
    if (this.closed) return;
    const busy = Date.now() - this.lastActivity < BUSY_FOR_MS;
    this.timer = setTimeout(() => this.poll(), busy ? POLL_BUSY_MS : POLL_IDLE_MS);
  }

  private poll(): void {
    for (;;) {
      const fd = native.unixAccept(this.listenFd);
      if (fd < 0) break;
      this.lastActivity = Date.now();
      this.conns.add({ conn: new Conn(fd), text: '', fds: [] });
    }
    for (const c of this.conns) this.readConn(c);
    this.schedule();
  }

  private readConn(c: ConnState): void {
    if (c.conn.closed) {
      this.drop(c);
      return;
    }
    for (;;) {
      const n = native.recvFds(c.conn.fd, this.buf, this.fdsBuf, MSG_DONTWAIT);
      if (n === -EAGAIN || n === -EINTR) return;
      for (const f of this.fdsBuf) if (f >= 0) c.fds.push(f);
      if (n <= 0) {
        this.drop(c);
        return;
      }
      this.lastActivity = Date.now();
      c.text += this.buf.toString('utf8', 0, n);
      let nl: number;
      while ((nl = c.text.indexOf('\n')) >= 0) {
        const line = c.text.slice(0, nl);
        c.text = c.text.slice(nl + 1);
        const fds = c.fds.splice(0);
        let req: ControlRequest;
        try {
          req = JSON.parse(line) as ControlRequest;
        } catch {
          for (const f of fds) fs.closeSync(f);
          c.conn.send({ error: 'malformed request' });
          continue;
        }
        try {
          this.handler(req, fds, c.conn);
        } catch (e) {
          c.conn.send({ error: e instanceof Error ? e.message : String(e) });
        }
      }
    }
  }

  private drop(c: ConnState): void {
    this.conns.delete(c);
    for (const f of c.fds.splice(0)) fs.closeSync(f);
    c.conn.close();
  }

  /** close stops listening, hangs up on every client and removes the socket file. */
  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    for (const c of [...this.conns]) this.drop(c);
    try {
      fs.closeSync(this.listenFd);
    } catch {
      // already closed
    }
    fs.rmSync(this.file, { force: true });
  }
}
