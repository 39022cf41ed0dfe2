// Starting and stopping Gofers, on the runsc side. One Gofer process per
// distinct host directory the sandbox mounts (the root, each volume), each in
// namespaces of its own (src/runsc/boot/launch.ts) with that directory as its
// root (pivot_root), so that nothing outside it can be named.
//
// Spawned with a native clone primitive, never node:child_process:
// that would install libuv's SIGCHLD handler, and every ptrace stop would
// then cost the Sentry a signal. Each Gofer is reaped by its own pid.

import { closeSync, realpathSync } from 'node:fs';
import { check, distEntry, native } from '../platform/ptrace/native.js';
import { launch } from '../runsc/boot/launch.js';
import { GoferClient } from '../sentry/fsimpl/gofer/client.js';
import { GoferHostFS } from '../sentry/fsimpl/gofer/gofer_fs.js';
import type { VolumeSpec } from '../sentry/vfs/vfs.js';

const AF_UNIX = 1;
const SOCK_SEQPACKET = 5;
const SOCK_CLOEXEC = 0o2000000;
const WNOHANG = 1;

/** GOFER_ENTRY is the Gofer's light entry point (dist/gofer.mjs when bundled, else dist/gofer/main.js). */
export const GOFER_ENTRY = distEntry('gofer.mjs', 'gofer/main.js');

export interface GoferOptions {
  /** root is the host directory to serve. */
  root: string;
  readonly: boolean;
  /** devices lets the Gofer open device nodes. */
  devices?: boolean;
  /** rootless maps the caller to root in the Gofer's user namespace even as host root. */
  rootless?: boolean;
  /** noSeccomp skips the Gofer's seccomp filter (--no-seccomp, for diagnosis). */
  noSeccomp?: boolean;
  /** stderrFd is where its error messages go (default: runsc's stderr). It
   *  must not be a pipe someone waits to close: the containerd shim waits
   *  for EOF on runsc create's stderr, which a Gofer would hold open. */
  stderrFd?: number;
}

export class GoferProcess {
  readonly pid: number;
  readonly client: GoferClient;
  readonly root: string;

  private constructor(pid: number, client: GoferClient, root: string) {
    this.pid = pid;
    this.client = client;
    this.root = root;
  }

  /** start spawns a Gofer serving o.root; it answers once it has started (no wait here). */
  static start(o: GoferOptions, onDeath: (why: string) => void = () => {}): GoferProcess {
    const pair = new Int32Array(2);
    check('socketpair', native.socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, pair));
    const argv = [process.execPath, GOFER_ENTRY, '--root', o.root, '--fd', '3', '--ns'];
    if (o.readonly) argv.push('--ro');
    if (o.devices) argv.push('--dev');
    if (o.noSeccomp) argv.push('--no-seccomp');
    // stdin/stdout closed (Node reopens them on /dev/null), stderr shared for
    // its error messages, the socket as fd 3; an empty environment.
    let pid: number;
    try {
      pid = launch({ kind: 'gofer', path: process.execPath, argv, env: process.env.TSVISOR_SECCOMP_LEARN === '1' ? ['TSVISOR_SECCOMP_LEARN=1'] : [], fds: [-1, -1, o.stderrFd ?? 2, pair[1]], setsid: true,
        rootless: o.rootless });
    } catch (e) {
      closeSync(pair[0]);
      throw e;
    } finally {
      closeSync(pair[1]);
    }
    const client = new GoferClient(pair[0], o.root, onDeath);
    return new GoferProcess(pid, client, o.root);
  }

  /** stop hangs up and reaps the Gofer (killing it if it lingers); returns its wait status. */
  stop(): number {
    this.client.close();
    const st = new Int32Array(1);
    const nap = new Int32Array(new SharedArrayBuffer(4));
    // It exits within milliseconds of the hang-up; give it 2 s at most.
    for (let i = 0; i < 2000; i++) {
      const r = native.waitpid(this.pid, WNOHANG, st);
      if (r !== 0) return r < 0 ? -1 : st[0];
      Atomics.wait(nap, 0, 0, 1);
    }
    try {
      process.kill(this.pid, 'SIGKILL');
    } catch {
      // already gone
    }
    return native.waitpid(this.pid, 0, st) < 0 ? -1 : st[0];
  }
}

export interface Gofers {
  /** host is the HostFS to give newSandboxVFS. */
  host: GoferHostFS;
  /** hostRoot and volumes are the sandbox's, with canonical host paths (as the Gofers serve them). */
  hostRoot: string;
  volumes: VolumeSpec[];
  procs: GoferProcess[];
  /** stop stops every Gofer. */
  stop(): void;
}

/** spawnGofers starts one Gofer per distinct host directory of the sandbox's
 *  root and volumes without waiting for them: the caller does other start-up
 *  work while they load, then calls ready(). */
export function spawnGofers(hostRoot: string, volumes: VolumeSpec[], warn: (msg: string) => void,
  opts: { rootless?: boolean; noSeccomp?: boolean; stderrFd?: number; rootWritable?: boolean } = {}): Gofers & { ready(): void } {
  const root = realpathSync(hostRoot);
  const vols = volumes.map((v) => ({ ...v, hostPath: realpathSync(v.hostPath) }));
  // A directory is served read-write if any mount of it is. The root is
  // read-only (writes go to the Sentry's overlay) unless the caller asks
  // for it to be written through (--overlay2=none without root.readonly).
  const dirs = new Map<string, boolean>([[root, opts.rootWritable !== true]]);
  for (const v of vols) dirs.set(v.hostPath, (dirs.get(v.hostPath) ?? true) && v.readonly);
  const goferOpts = { rootless: opts.rootless, noSeccomp: opts.noSeccomp, stderrFd: opts.stderrFd };
  const procs: GoferProcess[] = [];
  const stop = (): void => {
    for (const p of procs) p.stop();
  };
  try {
    for (const [dir, ro] of dirs) {
      procs.push(GoferProcess.start({ root: dir, readonly: ro, ...goferOpts }, (why) => warn(`gofer for ${dir}: ${why}`)));
    }
  } catch (e) {
    stop();
    throw e;
  }
  /** ready checks that each Gofer answers (the first round trip waits for its start). */
  const ready = (): void => {
    for (const p of procs) {
      try {
        p.client.version();
      } catch {
        stop();
        throw new Error(`the gofer for ${p.root} did not start`);
      }
    }
  };
  return {
    host: new GoferHostFS(procs.map((p) => ({ hostPath: p.root, client: p.client }))),
    hostRoot: root,
    volumes: vols,
    procs,
    stop,
    ready,
  };
}

/** startGofers starts the Gofers and checks that each answers. */
export function startGofers(hostRoot: string, volumes: VolumeSpec[], warn: (msg: string) => void): Gofers {
  const g = spawnGofers(hostRoot, volumes, warn);
  g.ready();
  return g;
}
