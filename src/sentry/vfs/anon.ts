// Files without a place in the mount tree (pipes, sockets, host stdio) still
// appear in paths: /proc/self/fd/0 may lead to a pipe, and AT_EMPTY_PATH may
// name one. locOfFD wraps such a file in an inode of an anonymous mount.

import * as linux from '../../abi/linux/file.js';
import type { FileDescription, Stat } from './file_description.js';
import { emptyStat } from './file_description.js';
import * as linuxerr from '../../abi/linux/errno.js';
import type { Caller, FileSystem, Opened, SetAttr, Statfs } from './inode.js';
import { Inode, allocAnonDev } from './inode.js';
import type { Loc } from './mount.js';
import { Mount } from './mount.js';
import { warnOnce } from './special.js';

const ANON_INODE_FS_MAGIC = 0x09041934;

class AnonFS implements FileSystem {
  readonly type = 'anon_inodefs';
  readonly dev = allocAnonDev();
  readonly source = 'anon_inodefs';
  readonly options = '';
  root!: Inode;
  statfs(): Statfs {
    return { type: ANON_INODE_FS_MAGIC, bsize: 4096, blocks: 0, bfree: 0, bavail: 0, files: 0, ffree: 0,
      namelen: 255, frsize: 4096, flags: 0 };
  }
}

/** AnonFileInode stands for an open file that has no inode of ours. */
export class AnonFileInode extends Inode {
  readonly fs: FileSystem;
  readonly file: FileDescription;

  constructor(fs: FileSystem, file: FileDescription) {
    super();
    this.fs = fs;
    this.file = file;
  }

  get ino(): number {
    return this.file.stat().ino;
  }
  get mode(): number {
    return this.file.stat().mode;
  }
  get uid(): number {
    return this.file.stat().uid;
  }
  get gid(): number {
    return this.file.stat().gid;
  }
  stat(): Stat {
    return { ...this.file.stat() };
  }

  /** setattr supports only the O_TRUNC of a reopen (`> /dev/stdout`), through the file's own truncate. */
  override setattr(c: Caller, attr: SetAttr): void {
    if (attr.size === undefined || attr.mode !== undefined || attr.uid !== undefined || attr.gid !== undefined) {
      throw linuxerr.EPERM;
    }
    if (this.file.impl.truncate) this.file.impl.truncate(this.file, attr.size);
    else warnOnce(c, 'vfs:anon-trunc', 'O_TRUNC on a reopened host file without truncate: not truncated');
  }

  /** open hands out the same description (Linux would open the object anew). */
  override open(c: Caller, flags: number): Opened {
    void c; void flags;
    this.file.incRef();
    return this.file;
  }
}

const anonFS = new AnonFS();
class AnonRoot extends Inode {
  readonly fs = anonFS;
  readonly ino = 1;
  get mode(): number {
    return linux.S_IFDIR | 0o500;
  }
  get uid(): number {
    return 0;
  }
  get gid(): number {
    return 0;
  }
  stat(): Stat {
    return emptyStat(anonFS.dev, 1, this.mode, 2);
  }
}
anonFS.root = new AnonRoot();
const anonMount = new Mount(anonFS, anonFS.root, null, null, false);

/** locOfFD returns where fd is in the tree, or an anonymous place for it. */
export function locOfFD(fd: FileDescription): Loc {
  const loc = fd.dentry as Loc | null;
  if (loc) return loc;
  return { mnt: anonMount, node: new AnonFileInode(anonFS, fd) };
}
