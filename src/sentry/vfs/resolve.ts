// Path resolution (Linux's namei): a Walker consumes a path component by
// component from a starting Loc, checking search permission on each
// directory, crossing mount points both ways, and following symlinks (at most
// MAXSYMLINKS per resolution, ELOOP beyond). Symlink targets are resolved here,
// inside the sandbox's tree: an absolute target restarts at the caller's root,
// so nothing ever leads outside the sandbox root.

import * as linuxerr from '../../abi/linux/errno.js';
import * as linux from '../../abi/linux/file.js';
import type { Caller, Inode } from './inode.js';
import { isDir, isSymlink } from './inode.js';
import type { Loc, Mount } from './mount.js';
import { checkAccess, MAY_EXEC, searchFast } from './permissions.js';
import { locOfFD } from './anon.js';

/** openat2 RESOLVE_* flags. */
export const RESOLVE_NO_XDEV = 0x01;
export const RESOLVE_NO_MAGICLINKS = 0x02;
export const RESOLVE_NO_SYMLINKS = 0x04;
export const RESOLVE_BENEATH = 0x08;
export const RESOLVE_IN_ROOT = 0x10;
export const RESOLVE_CACHED = 0x20;
const SCOPED = RESOLVE_BENEATH | RESOLVE_IN_ROOT;

/** fsRoot and fsCwd return the caller's root and working directory. */
export function fsRoot(c: Caller): Loc {
  const r = c.fs.root;
  if (!r) throw linuxerr.ENOENT;
  return r;
}

export function fsCwd(c: Caller): Loc {
  const r = c.fs.cwd;
  if (!r) throw linuxerr.ENOENT;
  return r;
}

/** checkName throws ENAMETOOLONG for a component longer than NAME_MAX bytes. */
export function checkName(name: string): void {
  // A UTF-16 unit is at most 3 UTF-8 bytes: short names need no counting.
  if (name.length > 85 && Buffer.byteLength(name) > linux.NAME_MAX) throw linuxerr.ENAMETOOLONG;
}

/** pushPath pushes path's components onto comps (reversed: pop gives the next
 *  one); returns whether the path ends with a slash. */
function pushPath(comps: string[], path: string): boolean {
  let end = path.length;
  const trailing = end > 0 && path.charCodeAt(end - 1) === 0x2f;
  while (end > 0) {
    const start = path.lastIndexOf('/', end - 1);
    if (end - start > 1) comps.push(path.slice(start + 1, end));
    end = start < 0 ? 0 : start;
  }
  return trailing;
}

/** isMountPoint reports whether something is mounted at node of mnt. */
export function isMountPoint(mnt: Mount, node: Inode): boolean {
  return mnt.children.size !== 0 && mnt.children.has(node);
}

/** crossMounts returns what is visible at (mnt, node): the root of whatever is mounted there. */
function crossMounts(mnt: Mount, node: Inode): Loc {
  let m: Mount | undefined;
  while (mnt.children.size && (m = mnt.children.get(node))) {
    mnt = m;
    node = m.root;
  }
  return { mnt, node };
}

/** parentLoc returns where ".." leads from loc, not above root. */
export function parentLoc(loc: Loc, root: Loc): Loc {
  let mnt = loc.mnt;
  let node = loc.node;
  for (;;) {
    if (node === root.node && mnt === root.mnt) return { mnt, node };
    if (node !== mnt.root) break;
    if (!mnt.parent || !mnt.point) return { mnt, node };
    node = mnt.point;
    mnt = mnt.parent;
  }
  return crossMounts(mnt, node.parent ?? node);
}

/** pathOf returns the absolute path of directory loc as seen from root
 *  (Linux's d_path), prefixed with "(unreachable)" when loc is not below root. */
export function pathOf(loc: Loc, root: Loc): string {
  const parts: string[] = [];
  let mnt = loc.mnt;
  let node = loc.node;
  let prefix = '';
  for (;;) {
    if (node === root.node && mnt === root.mnt) break;
    if (node === mnt.root) {
      if (!mnt.parent || !mnt.point) {
        prefix = '(unreachable)';
        break;
      }
      node = mnt.point;
      mnt = mnt.parent;
      continue;
    }
    const p = node.parent;
    if (!p) break;
    parts.push(node.name);
    node = p;
  }
  return prefix + '/' + parts.reverse().join('/');
}

export class Walker {
  readonly c: Caller;
  readonly root: Loc;
  /** The current position: the directory being walked (or the result). */
  mnt: Mount;
  node: Inode;
  /** Remaining components, last first. */
  private readonly comps: string[] = [];
  private links = 0;
  /** The path (or a followed symlink's target) ended with a slash: the result must be a directory. */
  mustBeDir = false;
  private readonly fastSearch: boolean;
  /** RESOLVE_* restrictions (openat2). */
  private readonly resolveFlags: number;

  constructor(c: Caller, start: Loc, path: string, resolve = 0) {
    this.c = c;
    this.resolveFlags = resolve;
    // RESOLVE_BENEATH and RESOLVE_IN_ROOT scope the walk to its start.
    this.root = resolve & SCOPED ? start : fsRoot(c);
    if (path.length >= linux.PATH_MAX) throw linuxerr.ENAMETOOLONG;
    if (path.charCodeAt(0) === 0x2f) {
      if (resolve & RESOLVE_BENEATH) throw linuxerr.EXDEV;
      start = this.root;
    }
    this.mnt = start.mnt;
    this.node = start.node;
    this.mustBeDir = pushPath(this.comps, path);
    this.fastSearch = searchFast(c.creds);
  }

  get loc(): Loc {
    return { mnt: this.mnt, node: this.node };
  }

  /** remaining reports whether components are left. */
  get remaining(): number {
    return this.comps.length;
  }

  private checkSearch(): void {
    if (!isDir(this.node)) throw linuxerr.ENOTDIR;
    if (!this.fastSearch) checkAccess(this.c.creds, this.node, MAY_EXEC);
  }

  /** child looks name up in the current directory (search permission checked,
   *  mounts crossed unless cross is false); null if absent. "." and ".." are handled. */
  child(name: string, cross = true): Loc | null {
    this.checkSearch();
    if (name === '.') return { mnt: this.mnt, node: this.node };
    const rf = this.resolveFlags;
    if (name === '..') {
      if ((rf & RESOLVE_BENEATH) && this.node === this.root.node && this.mnt === this.root.mnt) throw linuxerr.EXDEV;
      const p = parentLoc({ mnt: this.mnt, node: this.node }, this.root);
      if ((rf & RESOLVE_NO_XDEV) && p.mnt !== this.mnt) throw linuxerr.EXDEV;
      return p;
    }
    checkName(name);
    const n = this.node.lookup(this.c, name);
    if (!n) return null;
    if (!cross) return { mnt: this.mnt, node: n };
    const l = crossMounts(this.mnt, n);
    if ((rf & RESOLVE_NO_XDEV) && l.mnt !== this.mnt) throw linuxerr.EXDEV;
    return l;
  }

  /** followLink continues the walk through the symlink at link: its target's
   *  components are walked next, from the root if absolute, else from the
   *  current directory (the link's parent). A magic link (/proc/[pid]/fd/N)
   *  moves straight to its object; then it returns true. */
  followLink(link: Loc): boolean {
    if (++this.links > linux.MAXSYMLINKS) throw linuxerr.ELOOP;
    const rf = this.resolveFlags;
    if (rf & RESOLVE_NO_SYMLINKS) throw linuxerr.ELOOP;
    const magic = link.node.magicLink(this.c);
    if (magic) {
      if (rf & RESOLVE_NO_MAGICLINKS) throw linuxerr.ELOOP;
      if (rf & SCOPED) throw linuxerr.EXDEV;
      this.mnt = magic.mnt;
      this.node = magic.node;
      return true;
    }
    const target = link.node.readlink(this.c);
    if (target === '') throw linuxerr.ENOENT;
    if (target.charCodeAt(0) === 0x2f) {
      if (rf & RESOLVE_BENEATH) throw linuxerr.EXDEV;
      this.mnt = this.root.mnt;
      this.node = this.root.node;
    }
    const wasLast = this.comps.length === 0;
    const trailing = pushPath(this.comps, target);
    if (wasLast && trailing) this.mustBeDir = true;
    return false;
  }

  /** step consumes one component: moves into it, or into a symlink's target
   *  when it is not the last component or follow says so. */
  private step(follow: boolean): void {
    const name = this.comps.pop()!;
    const last = this.comps.length === 0;
    const ch = this.child(name);
    if (!ch) throw linuxerr.ENOENT;
    if (isSymlink(ch.node) && (!last || follow || this.mustBeDir)) {
      this.followLink(ch);
      return;
    }
    this.mnt = ch.mnt;
    this.node = ch.node;
  }

  /** resolve walks every component and returns the final location. */
  resolve(follow: boolean): Loc {
    while (this.comps.length) this.step(follow);
    if (this.mustBeDir && !isDir(this.node)) throw linuxerr.ENOTDIR;
    return { mnt: this.mnt, node: this.node };
  }

  /** resolveParent walks all but the last component (following symlinks) and
   *  returns the last one's name: "." or ".." as given, '' when the path has
   *  no component ("/"). The current position is then the parent directory. */
  resolveParent(): string {
    while (this.comps.length > 1) this.step(true);
    const name = this.comps.pop() ?? '';
    if (!isDir(this.node)) throw linuxerr.ENOTDIR;
    return name;
  }
}

/** startLoc returns where a relative path given with dirfd starts. */
export function startLoc(c: Caller, dirfd: number): Loc {
  if (dirfd === linux.AT_FDCWD) return fsCwd(c);
  const loc = c.fdTable.get(dirfd).dentry as Loc | null;
  if (!loc || !isDir(loc.node)) throw linuxerr.ENOTDIR;
  return loc;
}

/** newWalker starts resolving path relative to dirfd. An empty path is ENOENT
 *  unless emptyPath (AT_EMPTY_PATH); then the walk is at dirfd's file itself. */
export function newWalker(c: Caller, dirfd: number, path: string, emptyPath: boolean, resolve = 0): Walker {
  if (path === '') {
    if (!emptyPath) throw linuxerr.ENOENT;
    const loc = dirfd === linux.AT_FDCWD ? fsCwd(c) : locOfFD(c.fdTable.get(dirfd));
    return new Walker(c, loc, '', resolve);
  }
  if (path.charCodeAt(0) === 0x2f && !(resolve & SCOPED)) return new Walker(c, fsRoot(c), path, resolve);
  return new Walker(c, startLoc(c, dirfd), path, resolve);
}

/** lookupAt resolves path relative to dirfd for c. */
export function lookupAt(c: Caller, dirfd: number, path: string, follow: boolean, emptyPath = false): Loc {
  return newWalker(c, dirfd, path, emptyPath).resolve(follow);
}
