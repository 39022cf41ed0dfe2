// Extended attributes: the generic checks (Linux's xattr_permission and
// xattr_resolve_name) before the inode's own get/set/list/remove. Values are
// stored by the file systems that keep them (tmpfs, and the overlay's upper).

import * as linuxerr from '../../abi/linux/errno.js';
import * as linux from '../../abi/linux/file.js';
import * as inotify from '../fsimpl/inotify/inotify.js';
import type { Caller } from './inode.js';
import { isDir, isRegular } from './inode.js';
import type { Loc } from './mount.js';
import { CAP_SYS_ADMIN, MAY_READ, MAY_WRITE, checkAccess, hasCap, isOwner } from './permissions.js';

export const XATTR_CREATE = 1;
export const XATTR_REPLACE = 2;
export const XATTR_NAME_MAX = 255;
export const XATTR_SIZE_MAX = 65536;
export const XATTR_LIST_MAX = 65536;

const NAMESPACES = ['user.', 'trusted.', 'security.', 'system.'];

/** checkName resolves name's namespace: EOPNOTSUPP for unknown ones (and
 *  system.*, as POSIX ACLs are not kept), EINVAL for a bare prefix. */
function checkName(name: string): void {
  const ns = NAMESPACES.find((p) => name.startsWith(p));
  if (!ns || ns === 'system.') throw linuxerr.EOPNOTSUPP;
  if (name.length === ns.length) throw linuxerr.EINVAL;
}

/** permission is xattr_permission: trusted.* takes CAP_SYS_ADMIN, user.* only
 *  exists on regular files and directories, then the file's mode decides. */
function permission(c: Caller, loc: Loc, name: string, may: number): void {
  const n = loc.node;
  const write = (may & MAY_WRITE) !== 0;
  if (name.startsWith('trusted.')) {
    if (!hasCap(c.creds, CAP_SYS_ADMIN)) throw write ? linuxerr.EPERM : linuxerr.ENODATA;
    return;
  }
  if (name.startsWith('user.')) {
    if (!isRegular(n) && !isDir(n)) throw write ? linuxerr.EPERM : linuxerr.ENODATA;
    if (isDir(n) && (n.mode & linux.S_ISVTX) && write && !isOwner(c.creds, n)) throw linuxerr.EPERM;
  }
  checkAccess(c.creds, n, may);
}

/** getxattr returns the value of name on loc. */
export function getxattr(c: Caller, loc: Loc, name: string): Uint8Array {
  checkName(name);
  permission(c, loc, name, MAY_READ);
  return loc.node.getxattr(c, name);
}

/** setxattr sets name on loc; flags are XATTR_CREATE/XATTR_REPLACE (already checked). */
export function setxattr(c: Caller, loc: Loc, name: string, value: Uint8Array, flags: number): void {
  checkName(name);
  if (loc.mnt.readonly) throw linuxerr.EROFS;
  permission(c, loc, name, MAY_WRITE);
  loc.node.setxattr(c, name, value, flags);
  inotify.notifyChange(loc.node, inotify.IN_ATTRIB);
}

/** listxattr returns the names c may see (trusted.* needs CAP_SYS_ADMIN). */
export function listxattr(c: Caller, loc: Loc): string[] {
  const admin = hasCap(c.creds, CAP_SYS_ADMIN);
  return loc.node.listxattr(c).filter((n) => admin || !n.startsWith('trusted.'));
}

export function removexattr(c: Caller, loc: Loc, name: string): void {
  checkName(name);
  if (loc.mnt.readonly) throw linuxerr.EROFS;
  permission(c, loc, name, MAY_WRITE);
  loc.node.removexattr(c, name);
  inotify.notifyChange(loc.node, inotify.IN_ATTRIB);
}
