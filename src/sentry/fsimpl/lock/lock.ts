// Advisory file locks: flock(2) whole-file locks and fcntl(2) byte-range
// record locks (process-owned POSIX locks and description-owned OFD locks).
// Locks belong to a file (keyed by device and inode), so descriptions of the
// same file contend. Owners are opaque objects: a ThreadGroup for POSIX
// locks, a FileDescription for flock and OFD locks. Nothing here sleeps: a
// request that conflicts fails, and every release notifies waitQueue.

import { WaitQueue } from '../../vfs/waiter.js';

export const F_RDLCK = 0;
export const F_WRLCK = 1;
export const F_UNLCK = 2;

export interface RecordLock {
  start: number;
  /** Exclusive end; Infinity for "to the end of the file, however long". */
  end: number;
  type: number;
  owner: object;
  /** Reported by F_GETLK: the owning process's pid, or -1 for OFD locks. */
  pid: number;
}

/** Liveness check for owners (dead processes' POSIX locks are dropped lazily). */
export type LiveFn = (owner: object) => boolean;

export class FileLocks {
  private flockShared = new Set<object>();
  private flockExclusive: object | null = null;
  records: RecordLock[] = [];
  readonly waitQueue = new WaitQueue();

  /** empty reports whether no lock is held and nobody waits (the entry may go). */
  get empty(): boolean {
    return this.flockShared.size === 0 && this.flockExclusive === null && this.records.length === 0 &&
      this.waitQueue.size === 0;
  }

  /** flock takes (exclusive or shared) or converts owner's whole-file lock; false on conflict.
   *  Like Linux, a conversion drops the old lock before trying for the new one. */
  flock(owner: object, exclusive: boolean, live: LiveFn): boolean {
    this.reapFlock(live);
    const hadShared = this.flockShared.has(owner);
    if (exclusive) {
      if (this.flockExclusive === owner) return true;
      if (hadShared) this.flockUnlock(owner);
      if (this.flockExclusive !== null || this.flockShared.size > 0) return false;
      this.flockExclusive = owner;
      return true;
    }
    if (hadShared) return true;
    if (this.flockExclusive === owner) this.flockUnlock(owner);
    if (this.flockExclusive !== null) return false;
    this.flockShared.add(owner);
    return true;
  }

  flockUnlock(owner: object): void {
    let changed = this.flockShared.delete(owner);
    if (this.flockExclusive === owner) {
      this.flockExclusive = null;
      changed = true;
    }
    if (changed) this.waitQueue.notify(~0);
  }

  private reapFlock(live: LiveFn): void {
    if (this.flockExclusive !== null && !live(this.flockExclusive)) this.flockExclusive = null;
    for (const o of this.flockShared) if (!live(o)) this.flockShared.delete(o);
  }

  /** conflict returns a lock of another owner that keeps owner from locking [start, end) as type. */
  conflict(owner: object, start: number, end: number, type: number, live: LiveFn): RecordLock | null {
    this.reapRecords(live);
    for (const r of this.records) {
      if (r.owner === owner || r.end <= start || r.start >= end) continue;
      if (r.type === F_WRLCK || type === F_WRLCK) return r;
    }
    return null;
  }

  /** setRecord locks or unlocks [start, end) for owner; false on conflict (nothing changed). */
  setRecord(owner: object, pid: number, start: number, end: number, type: number, live: LiveFn): boolean {
    if (type !== F_UNLCK && this.conflict(owner, start, end, type, live)) return false;
    const kept: RecordLock[] = [];
    let changed = false;
    for (const r of this.records) {
      if (r.owner !== owner || r.end <= start || r.start >= end) {
        kept.push(r);
        continue;
      }
      changed = true;
      if (r.start < start) kept.push({ ...r, end: start });
      if (r.end > end) kept.push({ ...r, start: end });
    }
    if (type !== F_UNLCK) {
      let s = start;
      let e = end;
      // Merge with the owner's adjacent locks of the same type, as Linux does.
      for (let i = kept.length - 1; i >= 0; i--) {
        const r = kept[i];
        if (r.owner !== owner || r.type !== type || r.end < s || r.start > e) continue;
        s = Math.min(s, r.start);
        e = Math.max(e, r.end);
        kept.splice(i, 1);
      }
      kept.push({ start: s, end: e, type, owner, pid });
      changed = true;
    }
    this.records = kept.sort((a, b) => a.start - b.start);
    if (changed) this.waitQueue.notify(~0);
    return true;
  }

  /** releaseRecords drops every record lock owner holds. */
  releaseRecords(owner: object): void {
    const before = this.records.length;
    this.records = this.records.filter((r) => r.owner !== owner);
    if (this.records.length !== before) this.waitQueue.notify(~0);
  }

  private reapRecords(live: LiveFn): void {
    if (this.records.some((r) => !live(r.owner))) {
      this.records = this.records.filter((r) => live(r.owner));
      this.waitQueue.notify(~0);
    }
  }
}

/** LockTable maps file identities ("dev:ino") to their locks. */
export class LockTable {
  private readonly files = new Map<string, FileLocks>();

  get(key: string): FileLocks {
    let l = this.files.get(key);
    if (!l) {
      l = new FileLocks();
      this.files.set(key, l);
    }
    return l;
  }

  lookup(key: string): FileLocks | undefined {
    return this.files.get(key);
  }

  /** tidy forgets key's entry when it holds nothing. */
  tidy(key: string): void {
    const l = this.files.get(key);
    if (l && l.empty) this.files.delete(key);
  }
}
