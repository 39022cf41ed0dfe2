// Container state on the host: one directory per container under --root,
// `<root>/<id>/`, holding state.json (written by the CLI commands, replaced
// atomically), `exit` (the init's wait status, written by the sandbox process
// when the container stops) and sandbox.sock (the sandbox's control socket).
// Commands that change a container hold an flock on its directory, so two
// commands on one id run one after the other.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { native } from '../../platform/ptrace/native.js';
import type { Hooks, LinuxResources } from '../specutils/spec.js';

/** RuntimeError is an error for the user: printed, logged, exit status 1. */
export class RuntimeError extends Error {}

export type Status = 'creating' | 'created' | 'running' | 'paused' | 'stopped';

/** ContainerState is state.json. */
export interface ContainerState {
  ociVersion: string;
  id: string;
  bundle: string;
  rootfs: string;
  /** pid is the sandbox process's host pid; pidStart its start time (/proc/pid/stat field 22). */
  pid: number;
  pidStart: number;
  /** status as last recorded; a dead sandbox process makes the container stopped whatever this says. */
  status: Exclude<Status, 'stopped'>;
  created: string;
  owner: string;
  annotations: Record<string, string>;
  hooks: Hooks;
  /** cgroup: the directories of the container's cgroup, one per hierarchy (empty: none). */
  cgroupDirs: string[];
  resources?: LinuxResources;
  /** consoleSocket and terminal, for the record (state shows them as runc does not). */
  terminal: boolean;
}

/** ExitRecord is the `exit` file: the container's init ended. */
export interface ExitRecord {
  /** status is the wait status; code the shell-style exit code (128+N for signal N). */
  status: number;
  code: number;
  time: string;
}

const ID_RE = /^[\w+\-.]+$/;

/** validateID refuses ids runc refuses (and ".", ".."). */
export function validateID(id: string | undefined): string {
  if (!id) throw new RuntimeError('container id cannot be empty');
  if (!ID_RE.test(id) || id === '.' || id === '..') throw new RuntimeError(`invalid container id format: ${id}`);
  return id;
}

export function containerDir(root: string, id: string): string {
  return path.join(root, id);
}

/** ensureRoot makes the state root (0711, as runc does). */
export function ensureRoot(root: string): void {
  fs.mkdirSync(root, { recursive: true, mode: 0o711 });
}

/** writeFileAtomic replaces file with data (write to a temporary name, then rename). */
export function writeFileAtomic(file: string, data: string): void {
  const tmp = `${file}.tmp-${process.pid}`;
  fs.writeFileSync(tmp, data, { mode: 0o600 });
  fs.renameSync(tmp, file);
}

export function readState(dir: string): ContainerState | null {
  try {
    return JSON.parse(fs.readFileSync(path.join(dir, 'state.json'), 'utf8')) as ContainerState;
  } catch {
    return null;
  }
}

export function writeState(dir: string, s: ContainerState): void {
  writeFileAtomic(path.join(dir, 'state.json'), JSON.stringify(s, null, 1) + '\n');
}

export function readExit(dir: string): ExitRecord | null {
  try {
    return JSON.parse(fs.readFileSync(path.join(dir, 'exit'), 'utf8')) as ExitRecord;
  } catch {
    return null;
  }
}

/** procStartTime returns field 22 of /proc/pid/stat (start time in clock ticks), or -1 if
 *  pid is gone or a zombie (a zombie sandbox has finished: only its parent has not reaped it). */
export function procStartTime(pid: number): number {
  let text: string;
  try {
    text = fs.readFileSync(`/proc/${pid}/stat`, 'latin1');
  } catch {
    return -1;
  }
  // The command name may hold spaces and parentheses: fields resume after the last ')'.
  const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
  if (rest[0] === 'Z' || rest[0] === 'X') return -1;
  return Number(rest[19]);
}

/** sandboxAlive reports whether the container's sandbox process still runs. */
export function sandboxAlive(s: ContainerState): boolean {
  if (s.pid <= 0) return false;
  const st = procStartTime(s.pid);
  return st >= 0 && (s.pidStart <= 0 || st === s.pidStart);
}

/** statusOf is the container's status now. */
export function statusOf(dir: string, s: ContainerState): Status {
  if (s.status === 'creating') return sandboxAlive(s) ? 'creating' : 'stopped';
  if (readExit(dir) || !sandboxAlive(s)) return 'stopped';
  return s.status;
}

/** listIDs returns the ids of the containers under root, sorted. */
export function listIDs(root: string): string[] {
  let ents: fs.Dirent[];
  try {
    ents = fs.readdirSync(root, { withFileTypes: true });
  } catch {
    return [];
  }
  return ents.filter((e) => e.isDirectory() && ID_RE.test(e.name) && fs.existsSync(path.join(root, e.name, 'state.json')))
    .map((e) => e.name).sort();
}

const LOCK_EX = 2;
const LOCK_NB = 4;
const EWOULDBLOCK = 11;
const LOCK_TIMEOUT_MS = 120_000;

function sleepMs(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** Lock is a held flock on a container directory; release it with unlock (or exit). */
export class Lock {
  private constructor(private fd: number) {}

  /** acquire locks dir, waiting for another command that holds it. Throws
   *  RuntimeError(notFound) when dir does not exist (or was deleted meanwhile). */
  static acquire(dir: string, notFound: string): Lock {
    const deadline = Date.now() + LOCK_TIMEOUT_MS;
    for (;;) {
      let fd: number;
      try {
        fd = fs.openSync(dir, fs.constants.O_RDONLY | fs.constants.O_DIRECTORY);
      } catch {
        throw new RuntimeError(notFound);
      }
      let r: number;
      while ((r = native.flock(fd, LOCK_EX | LOCK_NB)) === -EWOULDBLOCK && Date.now() < deadline) sleepMs(10);
      if (r < 0) {
        fs.closeSync(fd);
        throw new RuntimeError(r === -EWOULDBLOCK ? `timed out waiting for the lock on ${dir}` : `flock ${dir}: errno ${-r}`);
      }
      // The holder may have deleted the directory (and another created it again).
      const held = fs.fstatSync(fd);
      let now: fs.Stats | null = null;
      try {
        now = fs.statSync(dir);
      } catch {
        now = null;
      }
      if (held.nlink > 0 && now && now.ino === held.ino && now.dev === held.dev) return new Lock(fd);
      fs.closeSync(fd);
      if (!now) throw new RuntimeError(notFound);
    }
  }

  unlock(): void {
    if (this.fd >= 0) fs.closeSync(this.fd);
    this.fd = -1;
  }
}
