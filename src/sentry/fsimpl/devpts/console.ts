// A host terminal given to the sandbox as a process's terminal (the console
// of a `process.terminal` container, whose master runsc passed to the
// console socket, or the terminal of `exec -t`) keeps its host line
// discipline, but the guest sees it where runc's container would: as
// /dev/pts/N of the sandbox's devpts. fstat of its fds and stat of the node
// agree and /proc/self/fd names the node, so ttyname() (and `tty`) work.

import type { FileDescriptionImpl, Stat } from '../../vfs/file_description.js';
import { FileDescription } from '../../vfs/file_description.js';
import * as linux from '../../../abi/linux/file.js';
import { HostFileImpl, hostStat, newHostFD } from '../host/host_fd.js';
import type { HostFDOptions } from '../host/host_fd.js';
import { devptsOfVFS } from './devpts.js';
import type { AttachedConsole, DevptsFS } from './devpts.js';
import type { Loc, Mount } from '../../vfs/mount.js';

/** placeOf finds the console's node where pts is mounted in vfs (a VFS, or
 *  any object in tests): fchown and fchmod of a console description then act
 *  on /dev/pts/N as they do for any terminal (login gives the user its tty). */
function placeOf(vfs: object, pts: DevptsFS, attached: AttachedConsole): Loc | null {
  const root = (vfs as { root?: Mount }).root;
  const stack: Mount[] = root && root.children instanceof Map ? [root] : [];
  while (stack.length) {
    const m = stack.pop()!;
    if (m.fs === pts && m.root === pts.root) return { mnt: m, node: attached.node };
    stack.push(...m.children.values());
  }
  return null;
}

/** ConsoleImpl is a host terminal description that runs a hook when released. */
class ConsoleImpl extends HostFileImpl {
  constructor(hostFd: number, flags: number, opts: HostFDOptions, private readonly onGone: () => void) {
    super(hostFd, flags, hostStat(hostFd), opts);
  }

  override release(): void {
    super.release();
    this.onGone();
  }
}

/** Status flags a description keeps from the open flags (as newHostFD). */
const KEEP = linux.O_ACCMODE | linux.O_APPEND | linux.O_NONBLOCK | linux.O_LARGEFILE | linux.O_ASYNC;

type Reopen = (flags: number, stat?: () => Stat) => FileDescriptionImpl;

/** Per VFS: session id -> its controlling terminal when that is a console
 *  (the exec'd process with a terminal leads a session of its own). */
const sessions = new WeakMap<object, Map<number, Reopen>>();

/** openSessionConsole opens the controlling terminal of session sid again
 *  (/dev/tty), or returns null when the session's terminal is no console. */
export function openSessionConsole(vfs: object, sid: number, flags: number, stat?: () => Stat): FileDescriptionImpl | null {
  return sessions.get(vfs)?.get(sid)?.(flags, stat) ?? null;
}

/** newConsoleFD wraps host terminal hostFd like newHostFD, and gives it the
 *  lowest free /dev/pts/N of vfs's devpts, owned by uid; with sid, it is that
 *  session's controlling terminal. Without a devpts it is a plain host file.
 *  When the Sentry owns hostFd (opts.owned), the node goes with the last
 *  description of it; the sandbox's own stdio stays. */
export function newConsoleFD(vfs: object, hostFd: number, flags: number, opts: HostFDOptions, uid: number, sid?: number): FileDescription {
  const pts = devptsOfVFS(vfs);
  if (!pts) return newHostFD(hostFd, flags, opts);
  const owned = opts.owned ?? !opts.isStdio;
  let first: FileDescription | null = null;
  // Reopening (/dev/pts/N, /dev/tty): a description of the same host fd
  // (never closing it), which keeps the first one, and so the host fd, alive.
  const reopen: Reopen = (oflags, stat) => {
    if (!owned) return new HostFileImpl(hostFd, oflags, hostStat(hostFd), { owned: false, stat });
    first!.incRef();
    return new ConsoleImpl(hostFd, oflags, { owned: false, stat }, () => first!.decRef());
  };
  const attached: AttachedConsole = pts.attachConsole(uid, reopen);
  let table = sessions.get(vfs);
  if (sid !== undefined) {
    if (!table) sessions.set(vfs, (table = new Map()));
    table.set(sid, reopen);
  }
  const gone = (): void => {
    attached.detach();
    if (sid !== undefined && table?.get(sid) === reopen) table.delete(sid);
  };
  const impl = owned
    ? new ConsoleImpl(hostFd, flags, { ...opts, stat: attached.stat }, gone)
    : new HostFileImpl(hostFd, flags, hostStat(hostFd), { ...opts, stat: attached.stat });
  first = new FileDescription(impl, flags & KEEP, attached.path);
  first.dentry = placeOf(vfs, pts, attached);
  return first;
}
