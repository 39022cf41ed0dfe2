// epoll: an interest list of (fd, file) entries and a ready list. An entry
// is either armed (registered on its file's wait queue, which is one-shot)
// or on the ready list, never both: a notification moves it to the ready
// list; a harvest re-checks it and either reports it (level-triggered
// entries stay ready, edge-triggered ones are re-armed to wait for the next
// change, one-shot ones are disabled) or re-arms it. The epoll file is
// itself pollable (readable while an entry is ready), so epolls nest.

import * as linuxerr from '../../../abi/linux/errno.js';
import { FileDescription } from '../../vfs/file_description.js';
import type { FileDescriptionImpl, Stat } from '../../vfs/file_description.js';
import {
  EVENT_ERR, EVENT_HUP, EVENT_IN, EVENT_OUT, EVENT_PRI, EVENT_RDHUP, WaitQueue,
} from '../../vfs/waiter.js';
import { anonInodeStat } from '../eventfd/eventfd.js';

export const EPOLLIN = 0x1;
export const EPOLLPRI = 0x2;
export const EPOLLOUT = 0x4;
export const EPOLLERR = 0x8;
export const EPOLLHUP = 0x10;
export const EPOLLRDNORM = 0x40;
export const EPOLLRDBAND = 0x80;
export const EPOLLWRNORM = 0x100;
export const EPOLLWRBAND = 0x200;
export const EPOLLMSG = 0x400;
export const EPOLLRDHUP = 0x2000;
export const EPOLLEXCLUSIVE = 0x1000_0000;
export const EPOLLWAKEUP = 0x2000_0000;
export const EPOLLONESHOT = 0x4000_0000;
export const EPOLLET = 0x8000_0000;
/** Bits that are modes, not events (Linux's EP_PRIVATE_BITS). */
const PRIVATE_BITS = (EPOLLWAKEUP | EPOLLONESHOT | EPOLLET | EPOLLEXCLUSIVE) >>> 0;
/** Events allowed alongside EPOLLEXCLUSIVE (Linux's EPOLLEXCLUSIVE_OK_BITS). */
const EXCLUSIVE_OK_BITS = (EPOLLIN | EPOLLOUT | EPOLLERR | EPOLLHUP | EPOLLWAKEUP | EPOLLET | EPOLLEXCLUSIVE) >>> 0;

export const EPOLL_CTL_ADD = 1;
export const EPOLL_CTL_DEL = 2;
export const EPOLL_CTL_MOD = 3;
export const EPOLL_CLOEXEC = 0o2000000;
/** Linux's EP_MAX_NESTS: how deep epolls may be nested. */
const MAX_NESTS = 4;
const O_RDWR = 2;

/** Entry is one interest-list item (Linux's epitem). */
class Entry {
  /** unarm removes the wait-queue registration, while armed. */
  unarm: (() => void) | null = null;
  constructor(readonly ep: EpollInstance, readonly fd: number, readonly file: FileDescription,
    public events: number, public data: bigint) {}
}

/** Harvested is one reported event, with what is needed to undo the harvest. */
export interface Harvested {
  events: number;
  data: bigint;
  entry: Entry;
  prevEvents: number;
}

/** toAsk converts epoll events into the EVENT_* bits to ask a file for. */
function toAsk(events: number): number {
  let m = events & (EVENT_IN | EVENT_PRI | EVENT_OUT | EVENT_RDHUP);
  if (events & (EPOLLRDNORM | EPOLLRDBAND)) m |= EVENT_IN;
  if (events & (EPOLLWRNORM | EPOLLWRBAND)) m |= EVENT_OUT;
  return m | EVENT_ERR | EVENT_HUP;
}

/** pollEntry returns the events to report for e now (0: none). */
function pollEntry(e: Entry): number {
  const want = e.events & ~PRIVATE_BITS;
  if (!want) return 0; // disabled by EPOLLONESHOT
  const ready = e.file.readiness(toAsk(want));
  let r = ready & (EVENT_IN | EVENT_PRI | EVENT_OUT | EVENT_ERR | EVENT_HUP | EVENT_RDHUP);
  if (ready & EVENT_IN) r |= EPOLLRDNORM;
  if (ready & EVENT_OUT) r |= EPOLLWRNORM;
  return r & want;
}

// Entries by watched file, so the file's last close removes them everywhere.
const entriesOf = new WeakMap<FileDescription, Set<Entry>>();

function trackFile(e: Entry): void {
  let set = entriesOf.get(e.file);
  if (!set) {
    set = new Set();
    entriesOf.set(e.file, set);
    const prev = e.file.onRelease;
    const file = e.file;
    file.onRelease = () => {
      prev?.();
      const s = entriesOf.get(file);
      if (!s) return;
      entriesOf.delete(file);
      for (const x of [...s]) x.ep.remove(x);
    };
  }
  set.add(e);
}

/** canPoll is Linux's file_can_poll: files without readiness (regular files, directories) cannot be watched. */
export function canPoll(f: FileDescription): boolean {
  return f.impl.readiness !== undefined;
}

export class EpollInstance implements FileDescriptionImpl {
  readonly waitQueue = new WaitQueue();
  private readonly interest = new Map<FileDescription, Map<number, Entry>>();
  /** ready is the ready list, in report order. */
  private readonly ready = new Set<Entry>();

  private find(fd: number, file: FileDescription): Entry | undefined {
    return this.interest.get(file)?.get(fd);
  }

  /** ctl implements epoll_ctl's checks and operations on an already looked-up target. */
  ctl(self: FileDescription, op: number, fd: number, file: FileDescription, events: number, data: bigint): void {
    events >>>= 0;
    if (!canPoll(file)) throw linuxerr.EPERM;
    if (file === self) throw linuxerr.EINVAL;
    const hasEvent = op !== EPOLL_CTL_DEL;
    if (hasEvent && (events & EPOLLEXCLUSIVE)) {
      if (op === EPOLL_CTL_MOD) throw linuxerr.EINVAL;
      if (op === EPOLL_CTL_ADD && (file.impl instanceof EpollInstance || (events & ~EXCLUSIVE_OK_BITS))) {
        throw linuxerr.EINVAL;
      }
    }
    const e = this.find(fd, file);
    switch (op) {
      case EPOLL_CTL_ADD:
        if (e) throw linuxerr.EEXIST;
        if (file.impl instanceof EpollInstance) this.checkLoop(file.impl);
        this.insert(fd, file, (events | EPOLLERR | EPOLLHUP) >>> 0, data);
        return;
      case EPOLL_CTL_DEL:
        if (!e) throw linuxerr.ENOENT;
        this.remove(e);
        return;
      case EPOLL_CTL_MOD:
        if (!e) throw linuxerr.ENOENT;
        if (e.events & EPOLLEXCLUSIVE) throw linuxerr.EINVAL;
        e.events = (events | EPOLLERR | EPOLLHUP) >>> 0;
        e.data = data;
        this.ready.delete(e);
        this.arm(e);
        return;
      default:
        throw linuxerr.EINVAL;
    }
  }

  /** checkLoop throws ELOOP if adding inner would create a cycle or nest too deep. */
  private checkLoop(inner: EpollInstance): void {
    const visit = (ep: EpollInstance, depth: number): void => {
      if (ep === this || depth > MAX_NESTS) throw linuxerr.ELOOP;
      for (const files of ep.interest.values()) {
        for (const e of files.values()) {
          if (e.file.impl instanceof EpollInstance) visit(e.file.impl, depth + 1);
        }
      }
    };
    visit(inner, 1);
  }

  private insert(fd: number, file: FileDescription, events: number, data: bigint): void {
    const e = new Entry(this, fd, file, events, data);
    let byFd = this.interest.get(file);
    if (!byFd) {
      byFd = new Map();
      this.interest.set(file, byFd);
    }
    byFd.set(fd, e);
    trackFile(e);
    this.arm(e);
  }

  /** remove drops e from this epoll (DEL, or its file's last close). */
  remove(e: Entry): void {
    e.unarm?.();
    e.unarm = null;
    this.ready.delete(e);
    const byFd = this.interest.get(e.file);
    if (byFd?.get(e.fd) === e) {
      byFd.delete(e.fd);
      if (byFd.size === 0) this.interest.delete(e.file);
    }
    entriesOf.get(e.file)?.delete(e);
  }

  /** arm queues e if it is ready now, else registers it on its file's queue. */
  private arm(e: Entry): void {
    e.unarm?.();
    e.unarm = null;
    if (!(e.events & ~PRIVATE_BITS)) return; // disabled: wait for MOD
    if (pollEntry(e)) {
      this.markReady(e);
      return;
    }
    this.wait(e);
  }

  /** wait registers e for its file's next change (the queue drops it when it fires). */
  private wait(e: Entry): void {
    e.unarm?.();
    const q = e.file.impl.waitQueue;
    e.unarm = q ? q.register(toAsk(e.events & ~PRIVATE_BITS), () => {
      e.unarm = null;
      this.markReady(e);
    }) : null;
  }

  private markReady(e: Entry): void {
    if (this.ready.has(e)) return;
    this.ready.add(e);
    this.waitQueue.notify(EVENT_IN);
  }

  /** harvest takes up to max events off the ready list. Synchronous. */
  harvest(max: number): Harvested[] {
    const out: Harvested[] = [];
    for (const e of [...this.ready]) {
      if (out.length >= max) break;
      this.ready.delete(e);
      const r = pollEntry(e);
      if (!r) {
        this.wait(e);
        continue;
      }
      out.push({ events: r, data: e.data, entry: e, prevEvents: e.events });
      if (e.events & EPOLLONESHOT) e.events = (e.events & PRIVATE_BITS) >>> 0;
      else if (e.events & EPOLLET) this.wait(e);
      else this.ready.add(e); // level-triggered: stays ready, at the tail
    }
    return out;
  }

  /** unharvest puts events back after they could not be copied out. */
  unharvest(hs: Harvested[]): void {
    for (const h of hs) {
      if (this.find(h.entry.fd, h.entry.file) !== h.entry) continue;
      h.entry.events = h.prevEvents;
      h.entry.unarm?.();
      h.entry.unarm = null;
      this.ready.delete(h.entry);
      this.markReady(h.entry);
    }
  }

  /** readiness: readable while some entry has events to report. */
  readiness(mask: number): number {
    for (const e of [...this.ready]) {
      if (pollEntry(e)) return EVENT_IN & mask;
      this.ready.delete(e);
      this.wait(e);
    }
    return 0;
  }

  stat(): Stat {
    return anonInodeStat();
  }

  release(): void {
    for (const byFd of this.interest.values()) {
      for (const e of byFd.values()) {
        e.unarm?.();
        e.unarm = null;
        entriesOf.get(e.file)?.delete(e);
      }
    }
    this.interest.clear();
    this.ready.clear();
  }

  /** size is the number of watched (fd, file) pairs. */
  get size(): number {
    let n = 0;
    for (const m of this.interest.values()) n += m.size;
    return n;
  }
}

/** newEpoll creates an epoll file description. */
export function newEpoll(): FileDescription {
  return new FileDescription(new EpollInstance(), O_RDWR, 'anon_inode:[eventpoll]');
}
