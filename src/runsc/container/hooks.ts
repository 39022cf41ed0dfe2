// OCI hooks, run on the host with the container's state JSON on stdin. runc
// runs createContainer and startContainer inside the container's namespaces;
// the sandbox has no host namespaces to enter, so every hook runs on the host
// (as gVisor does). Hooks are spawned with the native primitive, not
// node:child_process: `runsc run` hosts the sandbox in its own process, where
// libuv's SIGCHLD handler would tax every ptrace stop.

import * as fs from 'node:fs';
import { native } from '../../platform/ptrace/native.js';
import type { Hook, HookKind, Hooks } from '../specutils/spec.js';
import { RuntimeError } from './state.js';

/** OciState is the state JSON of the runtime spec (runtime.md). */
export interface OciState {
  ociVersion: string;
  id: string;
  status: string;
  pid: number;
  bundle: string;
  annotations?: Record<string, string>;
}

const AF_UNIX = 1;
const SOCK_STREAM = 1;
const SOCK_CLOEXEC = 0o2000000;
const WNOHANG = 1;
const MSG_DONTWAIT = 0x40;
const EAGAIN = 11;

function pair(): [number, number] {
  const p = new Int32Array(2);
  const r = native.socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, p);
  if (r < 0) throw new RuntimeError(`socketpair: errno ${-r}`);
  return [p[0], p[1]];
}

function sleepMs(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** runHook runs one hook; returns an error message, or null on success. */
function runHook(kind: HookKind, h: Hook, state: OciState): string | null {
  const args = h.args && h.args.length ? h.args : [h.path];
  const [inR, inW] = pair();
  const [errR, errW] = pair();
  let out = 1;
  try {
    fs.fstatSync(1);
  } catch {
    out = -1;
  }
  const pid = native.spawn(h.path, args, h.env ?? [], new Int32Array([inR, out, errW]), 0);
  fs.closeSync(inR);
  fs.closeSync(errW);
  if (pid < 0) {
    fs.closeSync(inW);
    fs.closeSync(errR);
    return `${kind} hook ${h.path}: errno ${-pid}`;
  }
  try {
    fs.writeSync(inW, JSON.stringify(state));
  } catch {
    // A hook that does not read its stdin is fine.
  }
  fs.closeSync(inW);
  const deadline = h.timeout ? Date.now() + h.timeout * 1000 : Infinity;
  const st = new Int32Array(1);
  const buf = new Uint8Array(4096);
  const noFds = new Int32Array(0);
  let stderr = '';
  let killed = false;
  for (;;) {
    for (let n; (n = native.recvFds(errR, buf, noFds, MSG_DONTWAIT)) > 0;) {
      if (stderr.length < 4096) stderr += Buffer.from(buf.buffer, 0, n).toString('utf8');
    }
    const r = native.waitpid(pid, WNOHANG, st);
    if (r === pid || (r < 0 && r !== -EAGAIN)) break;
    if (!killed && Date.now() > deadline) {
      killed = true;
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
    sleepMs(2);
  }
  fs.closeSync(errR);
  if (killed) return `${kind} hook ${h.path}: timed out after ${h.timeout}s`;
  const status = st[0];
  if (status === 0) return null;
  const why = status & 0x7f ? `killed by signal ${status & 0x7f}` : `exit status ${(status >> 8) & 0xff}`;
  return `${kind} hook ${h.path}: ${why}${stderr.trim() ? `, stderr: ${stderr.trim()}` : ''}`;
}

/** runHooks runs the hooks of one kind in order. A failure throws, unless
 *  warn is given (poststart, poststop: the spec says to warn and go on). */
export function runHooks(hooks: Hooks | undefined, kind: HookKind, state: OciState, warn?: (m: string) => void): void {
  for (const h of hooks?.[kind] ?? []) {
    const err = runHook(kind, h, state);
    if (err === null) continue;
    if (warn) warn(err);
    else throw new RuntimeError(`error running ${err}`);
  }
}
