// The Gofer's request handler: it serves one directory tree (its root) to the
// Sentry. Every path it receives is relative to that root and checked
// component by component: no empty, ".", ".." or NUL-containing component,
// no symlink or non-directory as an intermediate component, no following of
// a final symlink (lstat, O_NOFOLLOW, lchown, lutimes), no I/O on device
// nodes (unless allowed), FIFOs or sockets. In production the process is
// also chrooted to the tree (main.ts), so a race that swaps a directory for
// a symlink between our check and the kernel's walk still cannot leave it.

import * as fs from 'node:fs';
import * as linux from '../abi/linux/file.js';
import { ERRNO } from '../abi/linux/errno.js';
import type { HostDirent } from '../sentry/fsimpl/hostfs/host_fs.js';
import { direntType, fromStats } from '../sentry/fsimpl/hostfs/host_fs.js';
import {
  ARITY, FLAG_MORE, MAX_FRAME, OP, PROTOCOL_VERSION, REPLY_HEADER, STATFS_SIZE, STAT_SIZE, VFLAG_DEVICES,
  VFLAG_READONLY, WireError, decodeRequest, encodeDirents, encodeStat, encodeStatfs, encodeString, requestId,
  writeReplyHeader,
} from './protocol.js';
import type { Request } from './protocol.js';

export interface ServerOptions {
  /** root is the served tree: "/" once chrooted; a directory in tests. */
  root: string;
  /** readonly refuses every change and every open for writing (EROFS). */
  readonly: boolean;
  /** devices allows opening character and block device nodes. */
  devices: boolean;
}

/** Errno is a Linux errno the handler replies with. */
class Errno extends Error {
  constructor(readonly errno: number) {
    super(`errno ${errno}`);
  }
}

const fail = (errno: number): never => {
  throw new Errno(errno);
};

/** errnoOf maps an exception from node:fs (or an Errno) to a Linux errno. */
export function errnoOf(e: unknown): number {
  if (e instanceof Errno) return e.errno;
  const n = (e as { errno?: unknown }).errno;
  if (typeof n === 'number' && n < 0) return -n;
  return ERRNO.EIO;
}

const NAME_MAX = 255;
const PATH_MAX = 4096;
/** Open flags the Sentry may ask for; anything else is refused (O_PATH, O_TMPFILE, O_ASYNC, O_DIRECT...). */
const OPEN_ALLOWED = linux.O_ACCMODE | linux.O_CREAT | linux.O_EXCL | linux.O_TRUNC | linux.O_APPEND |
  linux.O_DIRECTORY | linux.O_NOFOLLOW | linux.O_CLOEXEC | linux.O_LARGEFILE | linux.O_NOATIME | linux.O_SYNC |
  linux.O_DSYNC | linux.O_NONBLOCK | linux.O_NOCTTY;
/** FIONBIO sets or clears O_NONBLOCK on any fd. */
export const FIONBIO = 0x5421;
const enc = new TextEncoder();

/** splitPath validates a wire path ("" is the root, else "a/b/c") and returns its components. */
export function splitPath(p: string): string[] {
  if (p === '') return [];
  if (enc.encode(p).length >= PATH_MAX) fail(ERRNO.ENAMETOOLONG);
  const parts = p.split('/');
  for (const c of parts) {
    if (c === '' || c === '.' || c === '..' || c.includes('\0')) fail(ERRNO.EINVAL);
    if (c.length > NAME_MAX && enc.encode(c).length > NAME_MAX) fail(ERRNO.ENAMETOOLONG);
  }
  return parts;
}

function isInt(n: number, min: number, max: number): boolean {
  return Number.isInteger(n) && n >= min && n <= max;
}

/** Frame is one reply message: bytes, and the fd to pass with it (-1: none). */
export interface Frame {
  data: Uint8Array;
  fd: number;
}

/** ClearNonblock clears O_NONBLOCK on a host fd (the native ioctl in production). */
export type ClearNonblock = (fd: number) => void;

export class GoferServer {
  private readonly opts: ServerOptions;
  private readonly clearNonblock: ClearNonblock;
  private readonly out = new Uint8Array(MAX_FRAME);

  constructor(opts: ServerOptions, clearNonblock: ClearNonblock) {
    this.opts = opts;
    this.clearNonblock = clearNonblock;
  }

  /** hostPath turns validated components into a path under the root. */
  private hostPath(parts: string[]): string {
    const r = this.opts.root;
    if (parts.length === 0) return r;
    return (r.endsWith('/') ? r : r + '/') + parts.join('/');
  }

  /** walk checks that every component of parts but the last (all of them
   *  with whole) is a directory, not a symlink, and returns the host path. */
  private walk(p: string, whole = false): string {
    const parts = splitPath(p);
    const n = whole ? parts.length : parts.length - 1;
    for (let i = 0; i < n; i++) {
      const st = fs.lstatSync(this.hostPath(parts.slice(0, i + 1)));
      const type = Number(st.mode) & linux.S_IFMT;
      if (type === linux.S_IFLNK) fail(ERRNO.ELOOP);
      if (type !== linux.S_IFDIR) fail(ERRNO.ENOTDIR);
    }
    return this.hostPath(parts);
  }

  private writable(): void {
    if (this.opts.readonly) fail(ERRNO.EROFS);
  }

  /** handle answers one request frame with one or more reply frames. It
   *  throws WireError only when the frame has no usable id. */
  handle(frame: Uint8Array): Frame[] {
    let req: Request;
    try {
      req = decodeRequest(frame);
    } catch (e) {
      const id = requestId(frame);
      if (id < 0 || !(e instanceof WireError)) throw e;
      return [this.reply(id, frame[4] ?? 0, ERRNO.EINVAL, 0, REPLY_HEADER)];
    }
    try {
      const arity = ARITY[req.op];
      if (!arity) fail(ERRNO.ENOSYS);
      if (req.nums.length !== arity[0] || req.strs.length !== arity[1]) fail(ERRNO.EINVAL);
      return this.dispatch(req);
    } catch (e) {
      return [this.reply(req.id, req.op, errnoOf(e), 0, REPLY_HEADER)];
    }
  }

  /** reply copies out[0:end) into a frame after filling its header. */
  private reply(id: number, op: number, errno: number, flags: number, end: number, fd = -1): Frame {
    writeReplyHeader(this.out, { id, op, flags, errno });
    return { data: this.out.slice(0, end), fd };
  }

  private ok(req: Request, end = REPLY_HEADER, fd = -1): Frame[] {
    return [this.reply(req.id, req.op, 0, 0, end, fd)];
  }

  private dispatch(req: Request): Frame[] {
    const [s0, s1] = req.strs;
    const n = req.nums;
    const o = this.out;
    switch (req.op) {
      case OP.VERSION: {
        if (n[0] !== PROTOCOL_VERSION) fail(ERRNO.EPROTONOSUPPORT);
        const dv = new DataView(o.buffer);
        dv.setUint32(REPLY_HEADER, PROTOCOL_VERSION, true);
        dv.setUint32(REPLY_HEADER + 4, (this.opts.readonly ? VFLAG_READONLY : 0) | (this.opts.devices ? VFLAG_DEVICES : 0), true);
        return this.ok(req, REPLY_HEADER + 8);
      }
      case OP.LSTAT:
        encodeStat(fromStats(fs.lstatSync(this.walk(s0), { bigint: true })), o, REPLY_HEADER);
        return this.ok(req, REPLY_HEADER + STAT_SIZE);
      case OP.READDIR:
        return this.readdir(req, this.walk(s0, true));
      case OP.READLINK:
        return this.ok(req, encodeString(fs.readlinkSync(this.walk(s0)), o, REPLY_HEADER));
      case OP.OPEN:
        return this.ok(req, REPLY_HEADER, this.open(s0, n[0], n[1]));
      case OP.STATFS: {
        const s = fs.statfsSync(this.walk(s0, true));
        encodeStatfs({ type: s.type, bsize: s.bsize, blocks: s.blocks, bfree: s.bfree, bavail: s.bavail, files: s.files,
          ffree: s.ffree, namelen: NAME_MAX, frsize: s.bsize, flags: 0 }, o, REPLY_HEADER);
        return this.ok(req, REPLY_HEADER + STATFS_SIZE);
      }
    }
    this.writable();
    switch (req.op) {
      case OP.MKDIR:
        if (!isInt(n[0], 0, 0o7777)) fail(ERRNO.EINVAL);
        fs.mkdirSync(this.walk(s0), { mode: n[0] });
        break;
      case OP.UNLINK:
        fs.unlinkSync(this.walk(s0));
        break;
      case OP.RMDIR:
        fs.rmdirSync(this.walk(s0));
        break;
      case OP.RENAME:
        fs.renameSync(this.walk(s0), this.walk(s1));
        break;
      case OP.SYMLINK:
        // The target is data, never resolved here.
        if (s0 === '' || s0.includes('\0')) fail(ERRNO.EINVAL);
        if (enc.encode(s0).length >= PATH_MAX) fail(ERRNO.ENAMETOOLONG);
        fs.symlinkSync(s0, this.walk(s1));
        break;
      case OP.LINK:
        // link(2) does not follow a final symlink.
        fs.linkSync(this.walk(s0), this.walk(s1));
        break;
      case OP.CHMOD: {
        if (!isInt(n[0], 0, 0o7777)) fail(ERRNO.EINVAL);
        const p = this.walk(s0);
        // chmod(2) follows a final symlink; Linux refuses to chmod a link itself.
        if ((Number(fs.lstatSync(p).mode) & linux.S_IFMT) === linux.S_IFLNK) fail(ERRNO.EOPNOTSUPP);
        fs.chmodSync(p, n[0]);
        break;
      }
      case OP.LCHOWN:
        if (!isInt(n[0], -1, 0xffffffff) || !isInt(n[1], -1, 0xffffffff)) fail(ERRNO.EINVAL);
        fs.lchownSync(this.walk(s0), n[0], n[1]);
        break;
      case OP.UTIMES:
        if (!n.every((x) => Number.isInteger(x)) || !isInt(n[1], 0, 999_999_999) || !isInt(n[3], 0, 999_999_999)) {
          fail(ERRNO.EINVAL);
        }
        fs.lutimesSync(this.walk(s0), n[0] + n[1] / 1e9, n[2] + n[3] / 1e9);
        break;
      case OP.TRUNCATE: {
        if (!isInt(n[0], 0, Number.MAX_SAFE_INTEGER)) fail(ERRNO.EINVAL);
        const fd = this.openChecked(this.walk(s0), linux.O_WRONLY, 0);
        try {
          fs.ftruncateSync(fd, n[0]);
        } finally {
          fs.closeSync(fd);
        }
        break;
      }
      default:
        fail(ERRNO.ENOSYS);
    }
    return this.ok(req);
  }

  private readdir(req: Request, p: string): Frame[] {
    const list: HostDirent[] = fs.readdirSync(p, { withFileTypes: true }).map((d) => ({ name: d.name, type: direntType(d) }));
    const frames: Frame[] = [];
    let i = 0;
    do {
      const [next, end] = encodeDirents(list, i, this.out, REPLY_HEADER);
      i = next;
      frames.push(this.reply(req.id, req.op, 0, i < list.length ? FLAG_MORE : 0, end));
    } while (i < list.length);
    return frames;
  }

  /** open validates flags and opens p (a path under the root) for the Sentry. */
  private open(p: string, flags: number, mode: number): number {
    if (!isInt(flags, 0, 0xffffffff) || (flags & ~OPEN_ALLOWED) || (flags & linux.O_ACCMODE) === linux.O_ACCMODE) {
      fail(ERRNO.EINVAL);
    }
    if (!isInt(mode, 0, 0o7777)) fail(ERRNO.EINVAL);
    if (this.opts.readonly && ((flags & linux.O_ACCMODE) !== linux.O_RDONLY || (flags & (linux.O_CREAT | linux.O_TRUNC)))) {
      fail(ERRNO.EROFS);
    }
    return this.openChecked(this.walk(p), flags & ~linux.O_NONBLOCK, mode, (flags & linux.O_NONBLOCK) !== 0);
  }

  /** openChecked opens without following a final symlink and without
   *  blocking (a FIFO swapped in must not hang us), then refuses what is not
   *  a regular file or a directory (devices only when allowed). */
  private openChecked(p: string, flags: number, mode: number, nonblock = false): number {
    // Opening a device can have effects of its own: refuse before opening
    // when we can, and check again after (the tree may change meanwhile).
    let pre = 0;
    try {
      pre = Number(fs.lstatSync(p).mode) & linux.S_IFMT;
    } catch (e) {
      if (errnoOf(e) !== ERRNO.ENOENT || !(flags & linux.O_CREAT)) throw e;
    }
    if ((pre === linux.S_IFCHR || pre === linux.S_IFBLK) && !this.opts.devices) fail(ERRNO.EACCES);
    if (pre === linux.S_IFIFO || pre === linux.S_IFSOCK) fail(ERRNO.ENXIO);
    const fd = fs.openSync(p, flags | linux.O_NOFOLLOW | linux.O_CLOEXEC | linux.O_NOCTTY | linux.O_NONBLOCK, mode);
    try {
      const type = Number(fs.fstatSync(fd).mode) & linux.S_IFMT;
      if (type === linux.S_IFCHR || type === linux.S_IFBLK) {
        if (!this.opts.devices) fail(ERRNO.EACCES);
      } else if (type === linux.S_IFIFO || type === linux.S_IFSOCK) {
        fail(ERRNO.ENXIO);
      } else if (type !== linux.S_IFREG && type !== linux.S_IFDIR) {
        fail(ERRNO.EACCES);
      }
      if (!nonblock) this.clearNonblock(fd);
      return fd;
    } catch (e) {
      fs.closeSync(fd);
      throw e;
    }
  }
}
