// The VFS: the sandbox's mount tree and every path operation on it. Syscall
// handlers stay thin: they decode arguments and call one method here; the
// generic Linux semantics (lookup rules, permission and sticky-bit checks,
// errno precedence, EROFS, EXDEV, EBUSY on mount points) live here, the file
// system mechanics in the Inode implementations (fsimpl/*).
//
// References: openAt returns a FileDescription holding ONE reference, owned
// by the caller. To install it: `const fd = t.fdTable.newFD(file, cloexec, 0,
// limit); file.decRef();` (newFD takes its own reference). Callers that only
// use the file (the loader) call file.decRef() when done.
//
// Every path method takes a Caller (a Task, or any {fs, creds, fdTable}) and
// is synchronous.

import * as linuxerr from '../../abi/linux/errno.js';
import * as linux from '../../abi/linux/file.js';
import { Credentials } from '../kernel/creds.js';
import { FDTable } from '../kernel/fd_table.js';
import { newDevfs } from '../fsimpl/devfs/devfs.js';
import { DevptsFS, registerDevpts } from '../fsimpl/devpts/devpts.js';
import type { HostFS } from '../fsimpl/hostfs/host_fs.js';
import { NodeHostFS } from '../fsimpl/hostfs/host_fs.js';
import { HostFilesystem } from '../fsimpl/hostfs/hostfs.js';
import { OverlayFS } from '../fsimpl/overlay/overlay.js';
import { newProcFS } from '../fsimpl/procfs/procfs.js';
import { newSysfs } from '../fsimpl/sys/sysfs.js';
import { Tmpfs } from '../fsimpl/tmpfs/tmpfs.js';
import * as inotify from '../fsimpl/inotify/inotify.js';
import { AnonFileInode } from './anon.js';
import { warnOnce } from './special.js';
import { kernelCaller } from './caller.js';
import type { FileDescriptionImpl, Stat, Timespec } from './file_description.js';
import { FileDescription } from './file_description.js';
import type { FSContext } from './fs_context.js';
import type { Caller, FileSystem, Inode, Statfs } from './inode.js';
import { devMajor, devMinor, isDir, isRegular, isSymlink, now } from './inode.js';
import { DirectoryImpl, PathImpl } from './impls.js';
import type { Loc } from './mount.js';
import { Mount } from './mount.js';
import {
  CAP_CHOWN, CAP_DAC_READ_SEARCH, CAP_FOWNER, CAP_FSETID, CAP_MKNOD, CAP_SYS_CHROOT, MAY_EXEC, MAY_READ, MAY_WRITE,
  checkAccess, hasCap, inGroup, isOwner, mayAccess,
} from './permissions.js';
import type { Walker } from './resolve.js';
import { fsRoot, isMountPoint, lookupAt, newWalker, pathOf } from './resolve.js';
import { statfsLoc, statLoc } from './stat.js';

export type { Loc } from './mount.js';
export type { Caller } from './inode.js';

/** Open flags Linux drops from a description's f_flags. */
const OPEN_ONLY_FLAGS = linux.O_CREAT | linux.O_EXCL | linux.O_NOCTTY | linux.O_TRUNC | linux.O_CLOEXEC;
const FALLOC_FL_KEEP_SIZE = 1;

/** TimeArg is one utimensat time: a value, UTIME_NOW or UTIME_OMIT. */
export type TimeArg = Timespec | 'now' | 'omit';

export interface VolumeSpec {
  hostPath: string;
  guestPath: string;
  readonly: boolean;
}

function joinPath(dir: string, name: string): string {
  return dir.endsWith('/') ? dir + name : dir + '/' + name;
}

function isSpecialName(name: string): boolean {
  return name === '' || name === '.' || name === '..';
}

/** locOf returns where fd is in the tree, or null for files outside it (pipes, sockets, host fds). */
export function locOf(fd: FileDescription): Loc | null {
  return fd.dentry as Loc | null;
}

export class VFS {
  readonly root: Mount;
  /** Every mount, in mount order (for /proc/mounts). */
  private readonly mounts: Mount[] = [];
  /** O_TMPFILE files that linkat may still give a name. */
  private readonly linkable = new WeakSet<Inode>();

  constructor(rootFS: FileSystem, readonly = false) {
    this.root = new Mount(rootFS, rootFS.root, null, null, readonly);
    this.mounts.push(this.root);
  }

  get rootLoc(): Loc {
    return { mnt: this.root, node: this.root.root };
  }

  /** mountAt mounts fs at path (made if missing), resolved from the VFS root.
   *  root, when given, is the inode the mount shows (a bind mount: a
   *  directory, or a file mounted on a file). */
  mountAt(path: string, fs: FileSystem, readonly: boolean, root: Inode = fs.root): Mount {
    if (!isDir(root)) return this.mountFileAt(path, fs, readonly, root);
    const c = kernelCaller();
    c.fs.root = c.fs.cwd = this.rootLoc;
    let cur = '';
    for (const part of path.split('/').filter((p) => p)) {
      cur += '/' + part;
      try {
        this.mkdirAt(c, linux.AT_FDCWD, cur, 0o755);
      } catch (e) {
        if (e !== linuxerr.EEXIST) throw e;
      }
    }
    const loc = lookupAt(c, linux.AT_FDCWD, path, true);
    if (!isDir(loc.node)) throw linuxerr.ENOTDIR;
    const m = new Mount(fs, root, loc.mnt, loc.node, readonly);
    loc.mnt.children.set(loc.node, m);
    this.mounts.push(m);
    return m;
  }

  /** mountFileAt mounts root, a non-directory, over the existing
   *  non-directory at path (Linux allows file-on-file mounts only). */
  private mountFileAt(path: string, fs: FileSystem, readonly: boolean, root: Inode): Mount {
    const c = kernelCaller();
    c.fs.root = c.fs.cwd = this.rootLoc;
    const w = newWalker(c, linux.AT_FDCWD, path, false);
    const name = w.resolveParent();
    if (isSpecialName(name)) throw linuxerr.EINVAL;
    const dir = w.loc;
    const loc = w.child(name);
    if (!loc) throw linuxerr.ENOENT;
    if (isDir(loc.node)) throw linuxerr.ENOTDIR;
    const m = new Mount(fs, root, loc.mnt, loc.node, readonly);
    m.fileAt = { dir, name };
    loc.mnt.children.set(loc.node, m);
    this.mounts.push(m);
    return m;
  }

  /** initFSContext points a new context's root at the root, and cwd at cwd (or / if it is not a directory). */
  initFSContext(fs: FSContext, cwd: string): void {
    fs.root = this.rootLoc;
    fs.cwd = this.rootLoc;
    try {
      const loc = lookupAt({ fs, creds: new Credentials(), fdTable: new FDTable() }, linux.AT_FDCWD, cwd, true);
      if (isDir(loc.node)) fs.cwd = loc;
    } catch {
      // Fall back to the root.
    }
  }

  /** pathOf returns loc's path as c sees it (loc must be a directory, or a file with its parent given). */
  pathFor(c: Caller, loc: Loc): string {
    return pathOf(loc, fsRoot(c));
  }

  // ---- open ----

  /** openAt opens path relative to dirfd. The returned description holds one
   *  reference for the caller (see the top of this file). A FIFO opens
   *  without waiting for its other end. */
  openAt(c: Caller, dirfd: number, path: string, flags: number, mode: number, resolve = 0,
    emptyPath = false): FileDescription {
    return this.open(c, dirfd, path, flags, mode, resolve, false, emptyPath) as FileDescription;
  }

  /** openAtWait is openAt for open(2): a blocking FIFO open waits for the
   *  other end, returning a promise then (rejected with EINTR if interrupted). */
  openAtWait(c: Caller, dirfd: number, path: string, flags: number, mode: number,
    resolve = 0): FileDescription | Promise<FileDescription> {
    return this.open(c, dirfd, path, flags, mode, resolve, true);
  }

  private open(c: Caller, dirfd: number, path: string, flags: number, mode: number, resolve: number,
    wait: boolean, emptyPath = false): FileDescription | Promise<FileDescription> {
    if ((flags & linux.O_TMPFILE) === linux.O_TMPFILE) return this.openTmpfile(c, dirfd, path, flags, mode);
    if (flags & linux.O_PATH) flags &= linux.O_PATH | linux.O_DIRECTORY | linux.O_NOFOLLOW | linux.O_CLOEXEC;
    const creat = (flags & linux.O_CREAT) !== 0;
    if (creat && (flags & linux.O_DIRECTORY)) throw linuxerr.EINVAL;
    // emptyPath (execveat's AT_EMPTY_PATH): path '' opens dirfd's own file again.
    const w = newWalker(c, dirfd, path, emptyPath, resolve);
    const follow = (flags & linux.O_NOFOLLOW) === 0;
    let loc: Loc;
    let dir: Loc | null = null;
    let name = '';
    let created = false;
    /** The path a magic link (/proc/self/fd/N) led to, as it reads. */
    let magicPath = '';
    for (;;) {
      if (emptyPath && path === '') {
        loc = w.loc;
        break;
      }
      name = w.resolveParent();
      if (isSpecialName(name)) {
        if (creat) throw linuxerr.EISDIR;
        loc = name === '' ? w.loc : w.child(name)!;
        break;
      }
      const ch = w.child(name);
      if (!ch) {
        if (!creat) throw linuxerr.ENOENT;
        if (w.mustBeDir) throw linuxerr.EISDIR;
        dir = w.loc;
        this.mayCreate(c, dir);
        loc = { mnt: dir.mnt, node: dir.node.create(c, name, mode & 0o7777 & ~c.fs.umask) };
        created = true;
        inotify.notify(dir.node, name, loc.node, inotify.IN_CREATE);
        break;
      }
      if (creat && (flags & linux.O_EXCL)) throw linuxerr.EEXIST;
      if (isSymlink(ch.node)) {
        if (follow || w.mustBeDir) {
          if (w.followLink(ch)) {
            loc = w.loc;
            magicPath = ch.node.readlink(c);
            break;
          }
          continue;
        }
        if (!(flags & linux.O_PATH)) throw linuxerr.ELOOP;
      }
      dir = w.loc;
      loc = ch;
      break;
    }
    const node = loc.node;
    const type = node.mode & linux.S_IFMT;
    if ((w.mustBeDir || (flags & linux.O_DIRECTORY)) && type !== linux.S_IFDIR) throw linuxerr.ENOTDIR;
    const root = fsRoot(c);
    const fpath = magicPath && !isDir(node) ? magicPath
      : dir && !isDir(node) ? joinPath(pathOf(dir, root), name) : pathOf(loc, root);
    if (flags & linux.O_PATH) return this.newFile(new PathImpl(node), flags, fpath, loc);
    const acc = flags & linux.O_ACCMODE;
    let may = acc === linux.O_RDONLY ? MAY_READ : acc === linux.O_WRONLY ? MAY_WRITE : MAY_READ | MAY_WRITE;
    if (flags & linux.O_TRUNC) may |= MAY_WRITE;
    if (type === linux.S_IFDIR && (creat || (may & MAY_WRITE))) throw linuxerr.EISDIR;
    // A nodev mount's device nodes exist but do not open (Linux's may_open).
    if (loc.mnt.flags.length && (type === linux.S_IFCHR || type === linux.S_IFBLK) &&
        loc.mnt.flags.includes('nodev')) throw linuxerr.EACCES;
    if (!created) {
      checkAccess(c.creds, node, may);
      if ((may & MAY_WRITE) && loc.mnt.readonly && (type === linux.S_IFREG || type === linux.S_IFDIR)) {
        throw linuxerr.EROFS;
      }
      if (type === linux.S_IFREG && (flags & linux.O_TRUNC)) {
        node.setattr(c, { size: 0, mtime: now() });
        inotify.notify(dir?.node ?? null, name, node, inotify.IN_MODIFY);
      }
    }
    const parent = dir && !isDir(node) ? { dir: dir.node, name } : null;
    if (type === linux.S_IFDIR) {
      return this.notifyOpen(this.newFile(new DirectoryImpl(loc, c, root), flags, fpath, loc), parent);
    }
    const opened = node.open(c, flags, node, wait);
    // A magic link's target is handed over as it is; a FIFO's pipe gets its place in the tree.
    if (node instanceof AnonFileInode) return opened as FileDescription;
    const place = (f: FileDescription): FileDescription => {
      f.path = fpath;
      f.dentry = loc;
      return this.notifyOpen(f, parent);
    };
    if (opened instanceof FileDescription) return place(opened);
    if (opened instanceof Promise) return opened.then(place);
    return this.notifyOpen(this.newFile(opened, flags, fpath, loc), parent);
  }

  /** notifyOpen records where f was opened (for inotify) and reports IN_OPEN. */
  private notifyOpen(f: FileDescription, parent: { dir: Inode; name: string } | null): FileDescription {
    f.notifyParent = parent;
    if (inotify.active()) inotify.notifyFile(f, inotify.IN_OPEN);
    return f;
  }

  private newFile(impl: FileDescriptionImpl, flags: number, path: string, loc: Loc): FileDescription {
    const f = new FileDescription(impl, (flags & ~OPEN_ONLY_FLAGS) | linux.O_LARGEFILE, path);
    f.dentry = loc;
    return f;
  }

  private openTmpfile(c: Caller, dirfd: number, path: string, flags: number, mode: number): FileDescription {
    const acc = flags & linux.O_ACCMODE;
    if (acc !== linux.O_WRONLY && acc !== linux.O_RDWR) throw linuxerr.EINVAL;
    const dir = lookupAt(c, dirfd, path, true);
    if (!isDir(dir.node)) throw linuxerr.ENOTDIR;
    this.mayCreate(c, dir);
    const node = dir.node.tmpfile(c, mode & 0o7777 & ~c.fs.umask);
    if (!(flags & linux.O_EXCL)) this.linkable.add(node);
    const loc = { mnt: dir.mnt, node };
    const opened = node.open(c, flags, node) as FileDescriptionImpl;
    const fpath = joinPath(pathOf(dir, fsRoot(c)), `#${node.ino} (deleted)`);
    return this.newFile(opened, flags, fpath, loc);
  }

  // ---- generic checks ----

  /** mayCreate checks that c may add an entry to directory dir. */
  private mayCreate(c: Caller, dir: Loc): void {
    if (dir.mnt.readonly) throw linuxerr.EROFS;
    if (!dir.node.linked) throw linuxerr.ENOENT;
    checkAccess(c.creds, dir.node, MAY_WRITE | MAY_EXEC);
  }

  /** mayDelete checks that c may remove victim from dir (Linux's may_delete). */
  private mayDelete(c: Caller, dir: Loc, victim: Inode, wantDir: boolean): void {
    checkAccess(c.creds, dir.node, MAY_WRITE | MAY_EXEC);
    const cr = c.creds;
    if ((dir.node.mode & linux.S_ISVTX) && cr.fsuid !== victim.uid && cr.fsuid !== dir.node.uid &&
      !hasCap(cr, CAP_FOWNER)) {
      throw linuxerr.EPERM;
    }
    if (wantDir) {
      if (!isDir(victim)) throw linuxerr.ENOTDIR;
    } else if (isDir(victim)) {
      throw linuxerr.EISDIR;
    }
  }

  /** newEntry resolves path for a creation: returns the parent and the new
   *  name, after EEXIST (also for ".", ".." and "/") and trailing-slash checks. */
  private newEntry(c: Caller, dirfd: number, path: string, wantDir: boolean): [Walker, Loc, string] {
    const w = newWalker(c, dirfd, path, false);
    const name = w.resolveParent();
    if (isSpecialName(name)) throw linuxerr.EEXIST;
    const dir = w.loc;
    if (w.child(name, false)) throw linuxerr.EEXIST;
    if (w.mustBeDir && !wantDir) throw linuxerr.ENOENT;
    this.mayCreate(c, dir);
    return [w, dir, name];
  }

  // ---- directory entries ----

  mkdirAt(c: Caller, dirfd: number, path: string, mode: number): void {
    const [, dir, name] = this.newEntry(c, dirfd, path, true);
    const n = dir.node.mkdir(c, name, mode & 0o1777 & ~c.fs.umask);
    inotify.notify(dir.node, name, n, inotify.IN_CREATE);
  }

  mknodAt(c: Caller, dirfd: number, path: string, mode: number, dev: number): void {
    let type = mode & linux.S_IFMT;
    switch (type) {
      case 0: type = linux.S_IFREG; break;
      case linux.S_IFREG: case linux.S_IFIFO: case linux.S_IFSOCK: break;
      case linux.S_IFCHR: case linux.S_IFBLK:
        if (!hasCap(c.creds, CAP_MKNOD)) throw linuxerr.EPERM;
        break;
      case linux.S_IFDIR: throw linuxerr.EPERM;
      default: throw linuxerr.EINVAL;
    }
    const [, dir, name] = this.newEntry(c, dirfd, path, false);
    const perm = mode & 0o7777 & ~c.fs.umask;
    const n = type === linux.S_IFREG ? dir.node.create(c, name, perm)
      : dir.node.mknod(c, name, type | perm, type === linux.S_IFCHR || type === linux.S_IFBLK ? dev : 0);
    inotify.notify(dir.node, name, n, inotify.IN_CREATE);
  }

  symlinkAt(c: Caller, target: string, dirfd: number, path: string): void {
    if (target === '') throw linuxerr.ENOENT;
    const [, dir, name] = this.newEntry(c, dirfd, path, false);
    const n = dir.node.symlink(c, name, target);
    inotify.notify(dir.node, name, n, inotify.IN_CREATE);
  }

  linkAt(c: Caller, oldDirfd: number, oldPath: string, newDirfd: number, newPath: string, flags: number): void {
    if (flags & ~(linux.AT_SYMLINK_FOLLOW | linux.AT_EMPTY_PATH)) throw linuxerr.EINVAL;
    const empty = (flags & linux.AT_EMPTY_PATH) !== 0;
    if (empty && oldPath === '' && !hasCap(c.creds, CAP_DAC_READ_SEARCH)) throw linuxerr.ENOENT;
    const old = lookupAt(c, oldDirfd, oldPath, (flags & linux.AT_SYMLINK_FOLLOW) !== 0, empty);
    if (isDir(old.node)) throw linuxerr.EPERM;
    const [, dir, name] = this.newEntry(c, newDirfd, newPath, false);
    if (old.mnt !== dir.mnt) throw linuxerr.EXDEV;
    if (!old.node.linked && !this.linkable.has(old.node)) throw linuxerr.ENOENT;
    dir.node.link(c, name, old.node);
    this.linkable.delete(old.node);
    inotify.notify(null, '', old.node, inotify.IN_ATTRIB);
    inotify.notify(dir.node, name, old.node, inotify.IN_CREATE);
  }

  unlinkAt(c: Caller, dirfd: number, path: string, flags: number): void {
    if (flags & ~linux.AT_REMOVEDIR) throw linuxerr.EINVAL;
    if (flags & linux.AT_REMOVEDIR) return this.rmdirAt(c, dirfd, path);
    const w = newWalker(c, dirfd, path, false);
    const name = w.resolveParent();
    if (isSpecialName(name)) throw linuxerr.EISDIR;
    const dir = w.loc;
    if (dir.mnt.readonly) throw linuxerr.EROFS;
    const ch = w.child(name, false);
    if (!ch) throw linuxerr.ENOENT;
    if (w.mustBeDir) throw isDir(ch.node) ? linuxerr.EISDIR : linuxerr.ENOTDIR;
    this.mayDelete(c, dir, ch.node, false);
    if (isMountPoint(dir.mnt, ch.node)) throw linuxerr.EBUSY;
    dir.node.unlink(c, name);
    if (inotify.active()) {
      inotify.notify(null, '', ch.node, inotify.IN_ATTRIB);
      if (!ch.node.linked) inotify.notifyGone(ch.node);
      inotify.notify(dir.node, name, ch.node, inotify.IN_DELETE);
    }
  }

  rmdirAt(c: Caller, dirfd: number, path: string): void {
    const w = newWalker(c, dirfd, path, false);
    const name = w.resolveParent();
    if (name === '.') throw linuxerr.EINVAL;
    if (name === '..') throw linuxerr.ENOTEMPTY;
    if (name === '') throw linuxerr.EBUSY;
    const dir = w.loc;
    if (dir.mnt.readonly) throw linuxerr.EROFS;
    const ch = w.child(name, false);
    if (!ch) throw linuxerr.ENOENT;
    this.mayDelete(c, dir, ch.node, true);
    if (isMountPoint(dir.mnt, ch.node)) throw linuxerr.EBUSY;
    if (!ch.node.isEmpty(c)) throw linuxerr.ENOTEMPTY;
    dir.node.rmdir(c, name);
    if (inotify.active()) {
      inotify.notifyGone(ch.node);
      inotify.notify(dir.node, name, ch.node, inotify.IN_DELETE);
    }
  }

  renameAt(c: Caller, oldDirfd: number, oldPath: string, newDirfd: number, newPath: string, flags: number): void {
    if (flags & ~(linux.RENAME_NOREPLACE | linux.RENAME_EXCHANGE | linux.RENAME_WHITEOUT)) throw linuxerr.EINVAL;
    const exchange = (flags & linux.RENAME_EXCHANGE) !== 0;
    if (exchange && (flags & (linux.RENAME_NOREPLACE | linux.RENAME_WHITEOUT))) throw linuxerr.EINVAL;
    // Whiteouts are an overlay upper layer's business; no guest file system here offers them.
    if (flags & linux.RENAME_WHITEOUT) {
      warnOnce(c, 'vfs:rename-whiteout', 'renameat2 RENAME_WHITEOUT is not supported (EINVAL)');
      throw linuxerr.EINVAL;
    }
    const ow = newWalker(c, oldDirfd, oldPath, false);
    const oldName = ow.resolveParent();
    if (isSpecialName(oldName)) throw linuxerr.EBUSY;
    const nw = newWalker(c, newDirfd, newPath, false);
    const newName = nw.resolveParent();
    if (isSpecialName(newName)) throw flags & linux.RENAME_NOREPLACE ? linuxerr.EEXIST : linuxerr.EBUSY;
    const oldDir = ow.loc;
    const newDir = nw.loc;
    if (oldDir.mnt !== newDir.mnt) throw linuxerr.EXDEV;
    if (oldDir.mnt.readonly) throw linuxerr.EROFS;
    const src = ow.child(oldName, false)?.node;
    if (!src) throw linuxerr.ENOENT;
    const dst = nw.child(newName, false)?.node ?? null;
    const srcIsDir = isDir(src);
    if ((ow.mustBeDir || (nw.mustBeDir && !exchange)) && !srcIsDir) throw linuxerr.ENOTDIR;
    if (exchange && nw.mustBeDir && dst && !isDir(dst)) throw linuxerr.ENOTDIR;
    if ((flags & linux.RENAME_NOREPLACE) && dst) throw linuxerr.EEXIST;
    if (exchange && !dst) throw linuxerr.ENOENT;
    if (src === dst) return;
    this.mayDelete(c, oldDir, src, srcIsDir);
    if (dst) this.mayDelete(c, newDir, dst, exchange ? isDir(dst) : srcIsDir);
    else this.mayCreate(c, newDir);
    const mnt = oldDir.mnt;
    if (isMountPoint(mnt, src) || (dst && isMountPoint(mnt, dst))) throw linuxerr.EBUSY;
    // A directory cannot move below itself.
    if (srcIsDir && isAncestor(src, newDir.node)) throw linuxerr.EINVAL;
    if (dst && isDir(dst) && isAncestor(dst, oldDir.node)) throw exchange ? linuxerr.EINVAL : linuxerr.ENOTEMPTY;
    if (dst && !exchange && isDir(dst) && !dst.isEmpty(c)) throw linuxerr.ENOTEMPTY;
    // Moving a directory rewrites its "..": that needs write permission on it.
    if (oldDir.node !== newDir.node) {
      if (srcIsDir) checkAccess(c.creds, src, MAY_WRITE);
      if (exchange && dst && isDir(dst)) checkAccess(c.creds, dst, MAY_WRITE);
    }
    oldDir.node.rename(c, oldName, newDir.node, newName, flags & (linux.RENAME_EXCHANGE | linux.RENAME_NOREPLACE));
    if (inotify.active()) this.notifyRename(oldDir.node, oldName, newDir.node, newName, src, dst, exchange);
  }

  /** notifyRename reports a rename as fsnotify_move does, for both sides of an exchange. */
  private notifyRename(oldDir: Inode, oldName: string, newDir: Inode, newName: string, src: Inode, dst: Inode | null,
    exchange: boolean): void {
    const move = (fromDir: Inode, from: string, toDir: Inode, to: string, n: Inode): void => {
      const cookie = inotify.newCookie();
      inotify.notify(fromDir, from, n, inotify.IN_MOVED_FROM, cookie);
      inotify.notify(toDir, to, n, inotify.IN_MOVED_TO, cookie);
      inotify.notify(null, '', n, inotify.IN_MOVE_SELF);
    };
    move(oldDir, oldName, newDir, newName, src);
    if (exchange && dst) move(newDir, newName, oldDir, oldName, dst);
    else if (dst && !dst.linked) {
      if (!isDir(dst)) inotify.notify(null, '', dst, inotify.IN_ATTRIB);
      inotify.notifyGone(dst);
    }
  }

  /** notifyAttr reports a setattr as fsnotify_change does. */
  private notifyAttr(loc: Loc, attr: { mode?: number; uid?: number; gid?: number; size?: number;
    atime?: unknown; mtime?: unknown }): void {
    if (!inotify.active()) return;
    let mask = 0;
    if (attr.uid !== undefined || attr.gid !== undefined || attr.mode !== undefined) mask |= inotify.IN_ATTRIB;
    if (attr.size !== undefined) mask |= inotify.IN_MODIFY;
    if (attr.atime !== undefined && attr.mtime !== undefined) mask |= inotify.IN_ATTRIB;
    else if (attr.atime !== undefined) mask |= inotify.IN_ACCESS;
    else if (attr.mtime !== undefined) mask |= inotify.IN_MODIFY;
    if (mask) inotify.notifyChange(loc.node, mask);
  }

  readlinkAt(c: Caller, dirfd: number, path: string): string {
    const loc = lookupAt(c, dirfd, path, false, true);
    if (!isSymlink(loc.node)) throw linuxerr.EINVAL;
    return loc.node.readlink(c);
  }

  // ---- attributes ----

  /** statAt implements stat/lstat/newfstatat/statx lookups; flags are AT_* flags. */
  statAt(c: Caller, dirfd: number, path: string, flags: number): Stat {
    const loc = lookupAt(c, dirfd, path, (flags & linux.AT_SYMLINK_NOFOLLOW) === 0,
      (flags & linux.AT_EMPTY_PATH) !== 0);
    return statLoc(loc);
  }

  /** lookup resolves a path for c (follow: follow a final symlink). */
  lookup(c: Caller, dirfd: number, path: string, follow: boolean, emptyPath = false): Loc {
    return lookupAt(c, dirfd, path, follow, emptyPath);
  }

  statfsAt(c: Caller, dirfd: number, path: string): Statfs {
    return statfsLoc(lookupAt(c, dirfd, path, true));
  }

  /** accessAt implements faccessat2: mode is R_OK|W_OK|X_OK or F_OK. */
  accessAt(c: Caller, dirfd: number, path: string, mode: number, flags: number): void {
    if (mode & ~(linux.R_OK | linux.W_OK | linux.X_OK)) throw linuxerr.EINVAL;
    if (flags & ~(linux.AT_EACCESS | linux.AT_SYMLINK_NOFOLLOW | linux.AT_EMPTY_PATH)) throw linuxerr.EINVAL;
    let caller = c;
    if (!(flags & linux.AT_EACCESS)) {
      // access(2) checks with the real ids; root keeps its permitted capabilities.
      const cr = c.creds.clone();
      cr.fsuid = cr.uid;
      cr.fsgid = cr.gid;
      cr.capEffective = cr.uid === 0 ? cr.capPermitted : 0n;
      // Same caller otherwise (procfs magic links need the task behind it).
      caller = Object.create(c, { creds: { value: cr } }) as Caller;
    }
    const loc = lookupAt(caller, dirfd, path, (flags & linux.AT_SYMLINK_NOFOLLOW) === 0,
      (flags & linux.AT_EMPTY_PATH) !== 0);
    if (mode === linux.F_OK) return;
    const type = loc.node.mode & linux.S_IFMT;
    if ((mode & linux.W_OK) && loc.mnt.readonly &&
      (type === linux.S_IFREG || type === linux.S_IFDIR || type === linux.S_IFLNK)) {
      throw linuxerr.EROFS;
    }
    checkAccess(caller.creds, loc.node, mode);
  }

  chmodLoc(c: Caller, loc: Loc, mode: number): void {
    if (loc.mnt.readonly) throw linuxerr.EROFS;
    const n = loc.node;
    if (!isOwner(c.creds, n)) throw linuxerr.EPERM;
    mode &= 0o7777;
    if ((mode & linux.S_ISGID) && !inGroup(c.creds, n.gid) && !hasCap(c.creds, CAP_FSETID)) mode &= ~linux.S_ISGID;
    n.setattr(c, { mode });
    this.notifyAttr(loc, { mode });
  }

  chmodAt(c: Caller, dirfd: number, path: string, mode: number, flags: number): void {
    if (flags & ~(linux.AT_SYMLINK_NOFOLLOW | linux.AT_EMPTY_PATH)) throw linuxerr.EINVAL;
    const loc = lookupAt(c, dirfd, path, (flags & linux.AT_SYMLINK_NOFOLLOW) === 0,
      (flags & linux.AT_EMPTY_PATH) !== 0);
    if (isSymlink(loc.node)) throw linuxerr.EOPNOTSUPP;
    this.chmodLoc(c, loc, mode);
  }

  /** chownLoc changes owner and group; -1 leaves one as it is. */
  chownLoc(c: Caller, loc: Loc, uid: number, gid: number): void {
    if (loc.mnt.readonly) throw linuxerr.EROFS;
    const n = loc.node;
    const cr = c.creds;
    const owner = cr.fsuid === n.uid;
    if (uid !== -1 && !(owner && uid === n.uid) && !hasCap(cr, CAP_CHOWN)) throw linuxerr.EPERM;
    if (gid !== -1 && !(owner && (gid === n.gid || inGroup(cr, gid))) && !hasCap(cr, CAP_CHOWN)) {
      throw linuxerr.EPERM;
    }
    const attr: { uid?: number; gid?: number; mode?: number } = {};
    if (uid !== -1) attr.uid = uid;
    if (gid !== -1) attr.gid = gid;
    const mode = n.mode;
    // Changing a file's owner drops its set-id bits (group-executable setgid only), as Linux does.
    if (!isDir(n) && !isSymlink(n)) {
      let m = mode & ~linux.S_ISUID;
      if ((mode & linux.S_ISGID) && (mode & 0o010)) m &= ~linux.S_ISGID;
      if (m !== mode) attr.mode = m & 0o7777;
    }
    n.setattr(c, attr);
    this.notifyAttr(loc, attr);
  }

  chownAt(c: Caller, dirfd: number, path: string, uid: number, gid: number, flags: number): void {
    if (flags & ~(linux.AT_SYMLINK_NOFOLLOW | linux.AT_EMPTY_PATH)) throw linuxerr.EINVAL;
    const loc = lookupAt(c, dirfd, path, (flags & linux.AT_SYMLINK_NOFOLLOW) === 0,
      (flags & linux.AT_EMPTY_PATH) !== 0);
    this.chownLoc(c, loc, uid, gid);
  }

  /** utimesLoc sets access and modification times (utimensat semantics). */
  utimesLoc(c: Caller, loc: Loc, atime: TimeArg, mtime: TimeArg): void {
    if (atime === 'omit' && mtime === 'omit') return;
    if (loc.mnt.readonly) throw linuxerr.EROFS;
    const n = loc.node;
    if (atime === 'now' && mtime === 'now') {
      if (!isOwner(c.creds, n) && !mayAccess(c.creds, n, MAY_WRITE)) throw linuxerr.EACCES;
    } else if (!isOwner(c.creds, n)) {
      throw linuxerr.EPERM;
    }
    const t = now();
    const attr = {
      atime: atime === 'omit' ? undefined : atime === 'now' ? t : atime,
      mtime: mtime === 'omit' ? undefined : mtime === 'now' ? t : mtime,
    };
    n.setattr(c, attr);
    this.notifyAttr(loc, attr);
  }

  utimesAt(c: Caller, dirfd: number, path: string, atime: TimeArg, mtime: TimeArg, flags: number): void {
    if (flags & ~(linux.AT_SYMLINK_NOFOLLOW | linux.AT_EMPTY_PATH)) throw linuxerr.EINVAL;
    const loc = lookupAt(c, dirfd, path, (flags & linux.AT_SYMLINK_NOFOLLOW) === 0,
      (flags & linux.AT_EMPTY_PATH) !== 0);
    this.utimesLoc(c, loc, atime, mtime);
  }

  truncateAt(c: Caller, path: string, size: number): void {
    if (size < 0) throw linuxerr.EINVAL;
    const loc = lookupAt(c, linux.AT_FDCWD, path, true);
    const n = loc.node;
    if (isDir(n)) throw linuxerr.EISDIR;
    if (!isRegular(n)) throw linuxerr.EINVAL;
    if (loc.mnt.readonly) throw linuxerr.EROFS;
    checkAccess(c.creds, n, MAY_WRITE);
    n.setattr(c, { size });
    this.notifyAttr(loc, { size });
  }

  /** truncateFD implements ftruncate(2). */
  truncateFD(c: Caller, fd: FileDescription, size: number): void {
    if (fd.flags & linux.O_PATH) throw linuxerr.EBADF;
    if (size < 0 || !fd.writable) throw linuxerr.EINVAL;
    const loc = locOf(fd);
    if (!loc) {
      if (!fd.impl.truncate) throw linuxerr.EINVAL;
      fd.impl.truncate(fd, size);
      return;
    }
    if (!isRegular(loc.node)) throw linuxerr.EINVAL;
    // Unlike truncate(2), ftruncate(2) always updates the times.
    loc.node.setattr(c, { size, mtime: now() });
    if (inotify.active()) inotify.notifyFile(fd, inotify.IN_MODIFY);
  }

  /** fallocate implements fallocate(2) for mode 0 and FALLOC_FL_KEEP_SIZE. */
  fallocate(c: Caller, fd: FileDescription, mode: number, offset: number, len: number): void {
    if (offset < 0 || len <= 0) throw linuxerr.EINVAL;
    if (!fd.writable) throw linuxerr.EBADF;
    const loc = locOf(fd);
    if (!loc) throw fd.stat().mode & linux.S_IFIFO ? linuxerr.ESPIPE : linuxerr.ENODEV;
    const n = loc.node;
    if (isDir(n)) throw linuxerr.EISDIR;
    if (!isRegular(n)) throw linuxerr.ENODEV;
    if (mode & ~FALLOC_FL_KEEP_SIZE) throw linuxerr.EOPNOTSUPP;
    if (offset + len > Number.MAX_SAFE_INTEGER) throw linuxerr.EFBIG;
    // Memory is not reserved ahead (tmpfs pages come on write); only the size changes.
    if (!(mode & FALLOC_FL_KEEP_SIZE) && offset + len > n.stat().size) n.setattr(c, { size: offset + len });
  }

  // ---- working directory and root ----

  chdirAt(c: Caller, dirfd: number, path: string): void {
    this.chdirLoc(c, lookupAt(c, dirfd, path, true));
  }

  chdirLoc(c: Caller, loc: Loc): void {
    if (!isDir(loc.node)) throw linuxerr.ENOTDIR;
    checkAccess(c.creds, loc.node, MAY_EXEC);
    c.fs.cwd = loc;
  }

  chroot(c: Caller, path: string): void {
    const loc = lookupAt(c, linux.AT_FDCWD, path, true);
    if (!isDir(loc.node)) throw linuxerr.ENOTDIR;
    checkAccess(c.creds, loc.node, MAY_EXEC);
    if (!hasCap(c.creds, CAP_SYS_CHROOT)) throw linuxerr.EPERM;
    c.fs.root = loc;
  }

  /** getcwd returns the working directory's path; ENOENT if it was removed. */
  getcwd(c: Caller): string {
    const cwd = c.fs.cwd;
    if (!cwd || !cwd.node.linked) throw linuxerr.ENOENT;
    return pathOf(cwd, fsRoot(c));
  }

  // ---- /proc/mounts ----

  private visibleMounts(root: Loc): [Mount, string][] {
    const out: [Mount, string][] = [];
    for (const m of this.mounts) {
      // A file mount's path is its directory's and its name (files have no parent link).
      const p = m.fileAt ? joinPath(pathOf(m.fileAt.dir, root), m.fileAt.name) : pathOf({ mnt: m, node: m.root }, root);
      if (!p.startsWith('(unreachable)')) out.push([m, p]);
    }
    return out;
  }

  /** mountsText is /proc/[pid]/mounts for a process whose root is root. */
  mountsText(root: Loc): string {
    return this.visibleMounts(root).map(([m, p]) => {
      const flags = m.flags.length ? ',' + m.flags.join(',') : '';
      const opts = (m.readonly ? 'ro' : 'rw') + flags + (m.fs.options ? ',' + m.fs.options : '');
      return `${escapeMountPath(m.source ?? m.fs.source)} ${escapeMountPath(p)} ${m.fs.type} ${opts} 0 0\n`;
    }).join('');
  }

  /** mountInfoText is /proc/[pid]/mountinfo. */
  mountInfoText(root: Loc): string {
    return this.visibleMounts(root).map(([m, p]) => {
      const dev = m.fs.dev;
      const rw = m.readonly ? 'ro' : 'rw';
      const parent = m.parent?.id ?? m.id;
      const flags = m.flags.length ? ',' + m.flags.join(',') : '';
      return `${m.id} ${parent} ${devMajor(dev)}:${devMinor(dev)} ${escapeMountPath(m.rootPath ?? '/')} ` +
        `${escapeMountPath(p)} ${rw}${flags},relatime - ` +
        `${m.fs.type} ${escapeMountPath(m.source ?? m.fs.source)} ${rw}${m.fs.options ? ',' + m.fs.options : ''}\n`;
    }).join('');
  }

  /** checkExec throws EACCES unless c may execute the file open as fd. */
  checkExec(c: Caller, fd: FileDescription): void {
    const loc = locOf(fd);
    const n = loc?.node;
    if (!n || !isRegular(n)) throw linuxerr.EACCES;
    checkAccess(c.creds, n, MAY_EXEC);
    if (loc?.mnt.flags.includes('noexec')) throw linuxerr.EACCES;
  }
}

function escapeMountPath(p: string): string {
  return p.replace(/[ \t\n\\]/g, (ch) => '\\' + ch.charCodeAt(0).toString(8).padStart(3, '0'));
}

/** isAncestor reports whether dir a is b or above b (following parents). */
function isAncestor(a: Inode, b: Inode): boolean {
  for (let n: Inode | null = b; n; n = n.parent) if (n === a) return true;
  return false;
}

/** newSandboxVFS builds the sandbox's mount tree: / is an overlay of the host
 *  directory hostRoot (read-only) under a tmpfs; /dev is devfs, /proc procfs,
 *  /sys a read-only minimal sysfs; volumes are host directories bind-mounted
 *  at their guest paths. */
export function newSandboxVFS(opts: { hostRoot: string; volumes?: VolumeSpec[]; host?: HostFS }): VFS {
  const host = opts.host ?? new NodeHostFS();
  const lower = new HostFilesystem(host, opts.hostRoot, { readonly: true, cache: true });
  const vfs = new VFS(new OverlayFS(lower, new Tmpfs()));
  const c = kernelCaller();
  c.fs.umask = 0;
  c.fs.root = c.fs.cwd = vfs.rootLoc;
  try {
    vfs.mkdirAt(c, linux.AT_FDCWD, '/tmp', 0o1777);
  } catch (e) {
    if (e !== linuxerr.EEXIST) throw e;
  }
  vfs.mountAt('/dev', newDevfs(), false);
  const pts = new DevptsFS();
  vfs.mountAt('/dev/pts', pts, false);
  registerDevpts(vfs, pts);
  vfs.mountAt('/proc', newProcFS(), false);
  vfs.mountAt('/sys', newSysfs(), true);
  for (const v of opts.volumes ?? []) {
    // The host may change a volume under the sandbox: its metadata is never cached.
    const fs = new HostFilesystem(host, v.hostPath, { readonly: v.readonly, cache: false });
    vfs.mountAt(v.guestPath, fs, v.readonly);
  }
  return vfs;
}
