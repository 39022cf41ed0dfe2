// GoferHostFS: the HostFS the Sentry uses in a sandbox. Every path operation
// is an RPC to the Gofer serving the mount the path belongs to; files come
// back as host fds (SCM_RIGHTS), on which reads, writes, fstat and mmap are
// then direct host calls with no round trip. The Sentry itself opens no host
// path.
//
// The VFS names host files by host-absolute paths; each Gofer serves one host
// directory (the root file system's, or a volume's) and takes paths relative
// to it. A path goes to the Gofer of the longest mount prefix that contains it.
//
// Read-only opens on a read-only Gofer share one host fd per path: the
// Sentry only ever preads, fstats and maps such fds (no file offset is
// involved), and a read-only tree is the sandbox's own snapshot (the VFS
// caches its metadata too). So opening a path again costs no round trip; a
// few idle fds are kept for the next open, the least recently used closed.

import * as path from 'node:path';
import * as linuxerr from '../../../abi/linux/errno.js';
import * as linux from '../../../abi/linux/file.js';
import { OP, WireError, decodeDirents, decodeStat, decodeStatfs, decodeString } from '../../../gofer/protocol.js';
import type { Timespec } from '../../vfs/file_description.js';
import type { Statfs } from '../../vfs/inode.js';
import type { HostDirent, HostFS, HostStat } from '../hostfs/host_fs.js';
import { NodeHostFS } from '../hostfs/host_fs.js';
import type { GoferClient } from './client.js';

export interface GoferMount {
  /** hostPath is the host directory the client's Gofer serves (absolute, canonical). */
  hostPath: string;
  client: GoferClient;
}

/** MAX_IDLE_FDS bounds the shared read-only fds kept open while unused. */
export const MAX_IDLE_FDS = 256;
/** Flags that do not stop a read-only open from sharing an fd. */
const SHAREABLE = linux.O_CLOEXEC | linux.O_LARGEFILE | linux.O_NOFOLLOW;

interface SharedFD {
  path: string;
  fd: number;
  refs: number;
}

export class GoferHostFS implements HostFS {
  /** Longest prefix first. */
  private readonly mounts: GoferMount[];
  /** fdOps does the operations on fds we hold: plain host calls, no path. */
  private readonly fdOps = new NodeHostFS();
  /** Shared read-only fds by host path, least recently used first. */
  private readonly shared = new Map<string, SharedFD>();
  private readonly sharedByFd = new Map<number, SharedFD>();
  private idle = 0;

  constructor(mounts: GoferMount[]) {
    this.mounts = mounts.map((m) => ({ hostPath: path.resolve(m.hostPath), client: m.client }))
      .sort((a, b) => b.hostPath.length - a.hostPath.length);
  }

  /** route returns the Gofer serving p and p relative to its root ("" for the root). */
  private route(p: string): [GoferClient, string] {
    for (const m of this.mounts) {
      const r = m.hostPath;
      if (p === r) return [m.client, ''];
      if (r === '/') {
        if (p.startsWith('/')) return [m.client, p.slice(1)];
      } else if (p.startsWith(r) && p[r.length] === '/') {
        return [m.client, p.slice(r.length + 1)];
      }
    }
    // Outside every mount: nothing the container may see.
    throw linuxerr.EACCES;
  }

  private call(op: number, nums: number[], p: string, onPayload?: (b: Uint8Array) => void): number {
    const [c, rel] = this.route(p);
    return rpc(c, op, nums, [rel], onPayload);
  }

  /** call2 is an operation on two paths, which must be served by the same Gofer. */
  private call2(op: number, a: string, b: string): void {
    const [ca, ra] = this.route(a);
    const [cb, rb] = this.route(b);
    if (ca !== cb) throw linuxerr.EXDEV;
    rpc(ca, op, [], [ra, rb]);
  }

  lstat(p: string): HostStat {
    let st: HostStat | undefined;
    this.call(OP.LSTAT, [], p, (b) => (st = decodeStat(b, 0)));
    return st ?? fail();
  }

  readdir(p: string): HostDirent[] {
    const out: HostDirent[] = [];
    this.call(OP.READDIR, [], p, (b) => decodeDirents(b, 0, out));
    return out;
  }

  readlink(p: string): string {
    let s = '';
    this.call(OP.READLINK, [], p, (b) => (s = decodeString(b, 0)));
    return s;
  }

  open(p: string, flags: number, mode = 0o666): number {
    const [c, rel] = this.route(p);
    const share = c.readonly && (flags & ~SHAREABLE) === linux.O_RDONLY;
    if (share) {
      const s = this.shared.get(p);
      if (s) {
        if (s.refs++ === 0) this.idle--;
        // Most recently used goes last.
        this.shared.delete(p);
        this.shared.set(p, s);
        return s.fd;
      }
    }
    const fd = rpc(c, OP.OPEN, [flags >>> 0, mode & 0o7777], [rel]);
    if (fd < 0) throw linuxerr.EIO;
    if (share) {
      const s = { path: p, fd, refs: 1 };
      this.shared.set(p, s);
      this.sharedByFd.set(fd, s);
    }
    return fd;
  }

  close(fd: number): void {
    const s = this.sharedByFd.get(fd);
    if (!s) {
      this.fdOps.close(fd);
      return;
    }
    if (s.refs <= 0) return;
    if (--s.refs === 0 && ++this.idle > MAX_IDLE_FDS) this.evictIdle();
  }

  /** evictIdle closes the least recently used unused shared fds. */
  private evictIdle(): void {
    for (const s of this.shared.values()) {
      if (this.idle <= MAX_IDLE_FDS / 2) break;
      if (s.refs > 0) continue;
      this.shared.delete(s.path);
      this.sharedByFd.delete(s.fd);
      this.fdOps.close(s.fd);
      this.idle--;
    }
  }

  statfs(p: string): Statfs {
    let s: Statfs | undefined;
    this.call(OP.STATFS, [], p, (b) => (s = decodeStatfs(b, 0)));
    return s ?? fail();
  }

  pread(fd: number, dst: Uint8Array, pos: number): number {
    return this.fdOps.pread(fd, dst, pos);
  }

  pwrite(fd: number, src: Uint8Array, pos: number): number {
    return this.fdOps.pwrite(fd, src, pos);
  }

  append(fd: number, src: Uint8Array): number {
    return this.fdOps.append(fd, src);
  }

  fstat(fd: number): HostStat {
    return this.fdOps.fstat(fd);
  }

  ftruncate(fd: number, size: number): void {
    this.fdOps.ftruncate(fd, size);
  }

  fsync(fd: number): void {
    this.fdOps.fsync(fd);
  }

  mkdir(p: string, mode: number): void {
    this.call(OP.MKDIR, [mode & 0o7777], p);
  }

  unlink(p: string): void {
    this.call(OP.UNLINK, [], p);
  }

  rmdir(p: string): void {
    this.call(OP.RMDIR, [], p);
  }

  rename(from: string, to: string): void {
    this.call2(OP.RENAME, from, to);
  }

  symlink(target: string, p: string): void {
    const [c, rel] = this.route(p);
    rpc(c, OP.SYMLINK, [], [target, rel]);
  }

  link(from: string, to: string): void {
    this.call2(OP.LINK, from, to);
  }

  chmod(p: string, mode: number): void {
    this.call(OP.CHMOD, [mode & 0o7777], p);
  }

  lchown(p: string, uid: number, gid: number): void {
    this.call(OP.LCHOWN, [uid, gid], p);
  }

  lutimes(p: string, atime: Timespec, mtime: Timespec): void {
    this.call(OP.UTIMES, [atime.sec, atime.nsec, mtime.sec, mtime.nsec], p);
  }

  truncate(p: string, size: number): void {
    this.call(OP.TRUNCATE, [size], p);
  }
}

function rpc(c: GoferClient, op: number, nums: number[], strs: string[], onPayload?: (b: Uint8Array) => void): number {
  try {
    return c.rpc(op, nums, strs, onPayload);
  } catch (e) {
    // Only a request too big for a frame: paths are at most PATH_MAX.
    if (e instanceof WireError) throw linuxerr.ENAMETOOLONG;
    throw e;
  }
}

function fail(): never {
  throw linuxerr.EIO;
}
