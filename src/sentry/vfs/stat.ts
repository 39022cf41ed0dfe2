// stat(2) and statfs(2) of a place in the mount tree, or of a file
// description outside it (pipes, sockets, anonymous files).

import * as linux from '../../abi/linux/file.js';
import type { FileDescription, Stat } from './file_description.js';
import type { Statfs } from './inode.js';
import type { Loc } from './mount.js';

/** ST_RDONLY in statfs's f_flags. */
const ST_RDONLY = 1;

/** statLoc returns stat of loc with its mount id. */
export function statLoc(loc: Loc): Stat {
  const s = loc.node.stat();
  s.mntId = loc.mnt.id;
  return s;
}

/** statFD returns fstat(2) of fd: its inode's when it has one in the tree. */
export function statFD(fd: FileDescription): Stat {
  const loc = fd.dentry as Loc | null;
  return loc ? statLoc(loc) : fd.stat();
}

/** statfsLoc returns statfs(2) of loc's file system. */
export function statfsLoc(loc: Loc): Statfs {
  const s = loc.mnt.fs.statfs();
  if (loc.mnt.readonly) s.flags |= ST_RDONLY;
  return s;
}

const PIPEFS_MAGIC = 0x50495045;
const SOCKFS_MAGIC = 0x534f434b;
const ANON_INODE_FS_MAGIC = 0x09041934;

/** statfsFD returns fstatfs(2) of fd. */
export function statfsFD(fd: FileDescription): Statfs {
  const loc = fd.dentry as Loc | null;
  if (loc) return statfsLoc(loc);
  const type = fd.stat().mode & linux.S_IFMT;
  const magic = type === linux.S_IFIFO ? PIPEFS_MAGIC : type === linux.S_IFSOCK ? SOCKFS_MAGIC : ANON_INODE_FS_MAGIC;
  return { type: magic, bsize: 4096, frsize: 4096, blocks: 0, bfree: 0, bavail: 0, files: 0, ffree: 0,
    namelen: linux.NAME_MAX, flags: 0 };
}
