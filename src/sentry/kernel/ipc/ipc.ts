// What System V IPC objects (shm segments, semaphore sets, message queues)
// share, as Linux's ipc/util.c: keys and ids, the registry of one IPC
// namespace, permission checks (ipcperms) and struct ipc64_perm. The sandbox
// is one IPC namespace: each kernel has one registry per object kind.

import * as linuxerr from '../../../abi/linux/errno.js';
import type { Task } from '../task.js';

export const IPC_PRIVATE = 0;
export const IPC_CREAT = 0o1000;
export const IPC_EXCL = 0o2000;
export const IPC_NOWAIT = 0o4000;
export const IPC_RMID = 0;
export const IPC_SET = 1;
export const IPC_STAT = 2;
export const IPC_INFO = 3;
/** The "new layout" flag of ctl commands; x86-64 has only that layout. */
export const IPC_64 = 0x100;
/** Ids are seq * SEQ_MULTIPLIER + index (ipc_buildid). */
export const SEQ_MULTIPLIER = 32768;
export const CAP_IPC_OWNER = 15;
export const CAP_SYS_ADMIN = 21;
export const S_IRUGO = 0o444;
export const S_IWUGO = 0o222;
/** sizeof(struct ipc64_perm) on x86-64. */
export const IPC_PERM_SIZE = 48;

/** IpcObject is the part of kern_ipc_perm every object has. */
export interface IpcObject {
  id: number;
  index: number;
  /** IPC_PRIVATE once removed (a removed object can no longer be found by key). */
  key: number;
  uid: number;
  gid: number;
  cuid: number;
  cgid: number;
  /** Permission bits (and kind-specific flags above them). */
  mode: number;
}

/** IpcRegistry holds one kind of object of an IPC namespace. */
export class IpcRegistry<T extends IpcObject> {
  readonly byIndex = new Map<number, T>();
  seq = 0;

  constructor(readonly maxObjects: number) {}

  /** findKey returns the live object with key (never IPC_PRIVATE ones). */
  findKey(key: number): T | undefined {
    if (key === IPC_PRIVATE) return undefined;
    for (const o of this.byIndex.values()) if (o.key === key) return o;
    return undefined;
  }

  /** byId returns the object id names; EINVAL if none (or a stale id). */
  byId(id: number): T {
    if (id < 0) throw linuxerr.EINVAL;
    const o = this.byIndex.get(id % SEQ_MULTIPLIER);
    if (!o || o.id !== id) throw linuxerr.EINVAL;
    return o;
  }

  /** allocId reserves the lowest free index and returns [index, id]; ENOSPC when full. */
  allocId(): [number, number] {
    let index = 0;
    while (this.byIndex.has(index)) index++;
    if (index >= this.maxObjects) throw linuxerr.ENOSPC;
    const id = (this.seq++ % SEQ_MULTIPLIER) * SEQ_MULTIPLIER + index;
    return [index, id];
  }

  add(o: T): void {
    this.byIndex.set(o.index, o);
  }

  /** remove drops o (if it is still the object at its index). */
  remove(o: T): boolean {
    if (this.byIndex.get(o.index) !== o) return false;
    this.byIndex.delete(o.index);
    return true;
  }

  /** highestIndex is what the *_INFO commands return (0 when empty). */
  highestIndex(): number {
    let hi = 0;
    for (const i of this.byIndex.keys()) hi = Math.max(hi, i);
    return hi;
  }

  /** lookup is the common part of shmget/semget/msgget (ipcget): the id of
   *  key's object, after the access check and check(o) (the kind's own,
   *  Linux's more_checks), or of a new object from create(). */
  lookup(t: Task, key: number, flag: number, check: (o: T) => void, create: () => T): number {
    const o = this.findKey(key);
    if (!o) {
      if (key !== IPC_PRIVATE && !(flag & IPC_CREAT)) throw linuxerr.ENOENT;
      const n = create();
      this.add(n);
      return n.id;
    }
    if ((flag & IPC_CREAT) && (flag & IPC_EXCL)) throw linuxerr.EEXIST;
    if (!mayAccess(t, o, flag)) throw linuxerr.EACCES;
    check(o);
    return o.id;
  }

  /** statIndex is the object at index for the *_STAT commands (EINVAL if none). */
  atIndex(index: number): T {
    const o = this.byIndex.get(index);
    if (index < 0 || !o) throw linuxerr.EINVAL;
    return o;
  }
}

const registries = new WeakMap<object, Map<string, IpcRegistry<IpcObject>>>();

/** registryOf returns the kernel's registry of one kind of object. */
export function registryOf<T extends IpcObject>(kernel: object, kind: string, maxObjects: number): IpcRegistry<T> {
  let m = registries.get(kernel);
  if (!m) registries.set(kernel, (m = new Map()));
  let r = m.get(kind);
  if (!r) m.set(kind, (r = new IpcRegistry<IpcObject>(maxObjects)));
  return r as unknown as IpcRegistry<T>;
}

/** newPerm fills the owner fields of a new object for its creator t. */
export function newPerm(t: Task, key: number, flag: number): Pick<IpcObject, 'key' | 'uid' | 'gid' | 'cuid' | 'cgid' | 'mode'> {
  const c = t.creds;
  return { key, uid: c.euid, gid: c.egid, cuid: c.euid, cgid: c.egid, mode: flag & 0o777 };
}

export function nowSec(): number {
  return Math.floor(Date.now() / 1000);
}

function inGroup(t: Task, gid: number): boolean {
  return t.creds.egid === gid || t.creds.groups.includes(gid);
}

/** mayAccess is Linux's ipcperms: flag holds the S_I* bits asked for. */
export function mayAccess(t: Task, o: IpcObject, flag: number): boolean {
  const c = t.creds;
  const requested = (flag >> 6) | (flag >> 3) | flag;
  let granted = o.mode;
  if (c.euid === o.cuid || c.euid === o.uid) granted >>= 6;
  else if (inGroup(t, o.cgid) || inGroup(t, o.gid)) granted >>= 3;
  return (requested & ~granted & 0o7) === 0 || c.hasCap(CAP_IPC_OWNER);
}

/** checkAccess throws EACCES unless mayAccess. */
export function checkAccess(t: Task, o: IpcObject, flag: number): void {
  if (!mayAccess(t, o, flag)) throw linuxerr.EACCES;
}

/** isOwner: the caller may change or remove o (IPC_SET, IPC_RMID). */
export function isOwner(t: Task, o: IpcObject): boolean {
  const c = t.creds;
  return c.euid === o.uid || c.euid === o.cuid || c.hasCap(CAP_SYS_ADMIN);
}

/** checkOwner throws EPERM unless isOwner. */
export function checkOwner(t: Task, o: IpcObject): void {
  if (!isOwner(t, o)) throw linuxerr.EPERM;
}

/** encodePerm writes struct ipc64_perm at offset 0 of b. */
export function encodePerm(b: DataView, o: IpcObject): void {
  b.setInt32(0, o.key, true);
  b.setUint32(4, o.uid, true);
  b.setUint32(8, o.gid, true);
  b.setUint32(12, o.cuid, true);
  b.setUint32(16, o.cgid, true);
  b.setUint32(20, o.mode, true);
  b.setUint16(24, Math.floor(o.id / SEQ_MULTIPLIER), true);
}

/** setPerm applies IPC_SET's owner and permission bits from an ipc64_perm at offset 0. */
export function setPerm(b: DataView, o: IpcObject): void {
  o.uid = b.getUint32(4, true);
  o.gid = b.getUint32(8, true);
  o.mode = (o.mode & ~0o777) | (b.getUint16(20, true) & 0o777);
}
