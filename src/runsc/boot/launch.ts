// Starting a sandbox process (the Sentry, or a Gofer) in namespaces of its
// own, from runsc's side. The child is made by clone(2) with new user, mount,
// PID, IPC, UTS and cgroup namespaces (and a network namespace unless the
// sandbox uses the host's network), and waits until its user namespace's id
// maps are written here. Inside, it is root of nothing the host owns:
//   - the Sentry runs as the host's nobody (gVisor does the same): it needs no
//     host file access at all once started;
//   - a Gofer maps every host id to itself, so that it can serve files of any
//     owner, while holding capabilities only in its own user namespace;
//   - without host root (rootless), the caller's uid is root inside.
// What each process then does to confine itself is in confine.ts.

import { closeSync, writeFileSync } from 'node:fs';
import { check, native } from '../../platform/ptrace/native.js';

export const CLONE_NEWNS = 0x00020000;
export const CLONE_NEWCGROUP = 0x02000000;
export const CLONE_NEWUTS = 0x04000000;
export const CLONE_NEWIPC = 0x08000000;
export const CLONE_NEWUSER = 0x10000000;
export const CLONE_NEWPID = 0x20000000;
export const CLONE_NEWNET = 0x40000000;

const NS_SETSID = 1;
const NS_PDEATHSIG = 2;
const NS_BECOME_ROOT = 4;
const NOBODY = 65534;

export interface LaunchOptions {
  kind: 'sentry' | 'gofer';
  /** path and argv of the program (argv[0] included). */
  path: string;
  argv: string[];
  env: string[];
  /** fds[i] becomes the child's fd i (-1: closed); no other fd is inherited. */
  fds: number[];
  /** hostNetwork keeps the host's network namespace (--network=host). */
  hostNetwork?: boolean;
  /** setsid puts the child in a session of its own. */
  setsid?: boolean;
  /** dieWithParent kills the child when runsc dies (runsc do). */
  dieWithParent?: boolean;
  /** rootless maps the caller's uid to root even when it is host root. */
  rootless?: boolean;
  /** keepRoot maps root inside to the host's root, not nobody (a container's
   *  sandbox reads its bundle, which may be readable by root only, before it
   *  confines itself). */
  keepRoot?: boolean;
}

/** launchFlags returns the clone flags a sandbox process is started with. */
export function launchFlags(o: Pick<LaunchOptions, 'hostNetwork'>): number {
  return CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWCGROUP |
    (o.hostNetwork ? 0 : CLONE_NEWNET);
}

/** idMaps returns the uid_map and gid_map contents for a sandbox process. */
export function idMaps(kind: LaunchOptions['kind'], uid: number, gid: number, rootless: boolean, keepRoot = false): { uid: string; gid: string; denySetgroups: boolean } {
  if (rootless || uid !== 0 || keepRoot) return { uid: `0 ${uid} 1\n`, gid: `0 ${gid} 1\n`, denySetgroups: true };
  if (kind === 'gofer') return { uid: '0 0 4294967295\n', gid: '0 0 4294967295\n', denySetgroups: false };
  return { uid: `0 ${NOBODY} 1\n`, gid: `0 ${NOBODY} 1\n`, denySetgroups: true };
}

/** launch starts the process and returns its host pid; it runs once this returns. */
export function launch(o: LaunchOptions): number {
  const out = new Int32Array(1);
  const flags = NS_BECOME_ROOT | (o.setsid ? NS_SETSID : 0) | (o.dieWithParent ? NS_PDEATHSIG : 0);
  const pid = check('spawn in namespaces', native.spawnNs(o.path, o.argv, o.env, Int32Array.from(o.fds), flags, launchFlags(o), out));
  try {
    const m = idMaps(o.kind, process.getuid?.() ?? 0, process.getgid?.() ?? 0, o.rootless ?? false, o.keepRoot);
    if (m.denySetgroups) writeFileSync(`/proc/${pid}/setgroups`, 'deny');
    writeFileSync(`/proc/${pid}/uid_map`, m.uid);
    writeFileSync(`/proc/${pid}/gid_map`, m.gid);
  } catch (e) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone already
    }
    closeSync(out[0]);
    throw e;
  }
  closeSync(out[0]); // the child goes on to exec
  return pid;
}
