// Where bound Unix sockets are found: pathname sockets through the S_IFSOCK
// node bind made in the file system (a node maps to its bound socket while
// that socket lives), abstract names in a per-sandbox namespace. As in Linux,
// abstract names are looked up per socket type, so a stream socket never
// finds a datagram socket's abstract name.

import * as linuxerr from '../../../abi/linux/errno.js';
import * as linux from '../../../abi/linux/file.js';
import type { Kernel } from '../../kernel/kernel.js';
import type { Task } from '../../kernel/task.js';
import type { Inode } from '../../vfs/inode.js';
import { MAY_WRITE, checkAccess } from '../../vfs/permissions.js';

/** Bindable is the part of a socket the name tables need. */
export interface Bindable {
  readonly type: number;
}

/** The socket bound at each socket node, while it lives. */
const byNode = new WeakMap<Inode, Bindable>();
/** Per sandbox: abstract names, keyed by type and name. */
const abstractNames = new WeakMap<Kernel, Map<string, Bindable>>();

function abstractTable(k: Kernel): Map<string, Bindable> {
  let m = abstractNames.get(k);
  if (!m) {
    m = new Map();
    abstractNames.set(k, m);
  }
  return m;
}

function abstractKey(type: number, name: string): string {
  return `${type}:${name}`;
}

/** bindAbstract claims an abstract name: EADDRINUSE if taken. */
export function bindAbstract(k: Kernel, s: Bindable, name: string): void {
  const m = abstractTable(k);
  const key = abstractKey(s.type, name);
  if (m.has(key)) throw linuxerr.EADDRINUSE;
  m.set(key, s);
}

/** abstractTaken reports whether name is bound for type (autobind's search). */
export function abstractTaken(k: Kernel, type: number, name: string): boolean {
  return abstractTable(k).has(abstractKey(type, name));
}

export function unbindAbstract(k: Kernel, s: Bindable, name: string): void {
  const m = abstractTable(k);
  const key = abstractKey(s.type, name);
  if (m.get(key) === s) m.delete(key);
}

/** findAbstract returns the socket bound to name for type; ECONNREFUSED if none. */
export function findAbstract(k: Kernel, type: number, name: string): Bindable {
  const s = abstractTable(k).get(abstractKey(type, name));
  if (!s) throw linuxerr.ECONNREFUSED;
  return s;
}

/** bindPath makes the socket node at path (mode 0777 less the umask) and ties it
 *  to s; EADDRINUSE if the path exists. Returns the node, to unbind later. */
export function bindPath(t: Task, s: Bindable, path: string): Inode {
  const vfs = t.kernel.vfs;
  try {
    vfs.mknodAt(t, linux.AT_FDCWD, path, linux.S_IFSOCK | 0o777, 0);
  } catch (e) {
    throw e === linuxerr.EEXIST ? linuxerr.EADDRINUSE : e;
  }
  // mknodAt made exactly this name an instant ago: look it up without following it.
  const node = vfs.lookup(t, linux.AT_FDCWD, path, false).node;
  byNode.set(node, s);
  return node;
}

/** unbindPath drops the node's tie to s (the node stays, as in Linux). */
export function unbindPath(node: Inode, s: Bindable): void {
  if (byNode.get(node) === s) byNode.delete(node);
}

/** findPath resolves path to the socket bound there (unix_find_bsd): ENOENT and
 *  friends from the lookup, EACCES without write permission on the node,
 *  ECONNREFUSED when the node is no socket or no socket is bound to it. */
export function findPath(t: Task, path: string): Bindable {
  const loc = t.kernel.vfs.lookup(t, linux.AT_FDCWD, path, true);
  const node = loc.node;
  checkAccess(t.creds, node, MAY_WRITE);
  if ((node.mode & linux.S_IFMT) !== linux.S_IFSOCK) throw linuxerr.ECONNREFUSED;
  const s = byNode.get(node);
  if (!s) throw linuxerr.ECONNREFUSED;
  return s;
}
