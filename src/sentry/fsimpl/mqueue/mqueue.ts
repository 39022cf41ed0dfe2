// mqueue: the POSIX message queue file system (/dev/mqueue in containers).
// Only its empty root exists: message queues (mq_open & co.) are not
// implemented (ENOSYS), so nothing can be created in it. It is here so that
// an OCI spec's mqueue mount exists where the spec puts it.

import * as linux from '../../../abi/linux/file.js';
import type { DirEntry, Stat, Timespec } from '../../vfs/file_description.js';
import type { Caller, FileSystem, Statfs } from '../../vfs/inode.js';
import { Inode, allocAnonDev, now } from '../../vfs/inode.js';

/** MQUEUE_MAGIC is statfs's f_type of mqueue (include/uapi/linux/magic.h). */
export const MQUEUE_MAGIC = 0x19800202;

/** MqueueRoot is the file system's root: empty, and it stays empty (Linux
 *  refuses mkdir, link and symlink here with EPERM; creating a queue through
 *  open(O_CREAT) would need message queues, so it is refused the same way). */
class MqueueRoot extends Inode {
  readonly ino = 1;
  private readonly time: Timespec = now();

  constructor(readonly fs: MqueueFS) {
    super();
  }

  get mode(): number {
    return linux.S_IFDIR | 0o1777;
  }
  get uid(): number {
    return 0;
  }
  get gid(): number {
    return 0;
  }

  stat(): Stat {
    return {
      dev: this.fs.dev, ino: this.ino, mode: this.mode, nlink: 2, uid: 0, gid: 0, rdev: 0, size: 0,
      blksize: 4096, blocks: 0, atime: this.time, mtime: this.time, ctime: this.time,
    };
  }

  override lookup(c: Caller, name: string): Inode | null {
    void c; void name;
    return null;
  }

  override readdir(c: Caller): DirEntry[] {
    void c;
    return [];
  }
}

/** MqueueFS is one mqueue instance. */
export class MqueueFS implements FileSystem {
  readonly type = 'mqueue';
  readonly source = 'mqueue';
  readonly options = '';
  readonly dev = allocAnonDev();
  readonly root: Inode = new MqueueRoot(this);

  statfs(): Statfs {
    return { type: MQUEUE_MAGIC, bsize: 4096, frsize: 4096, blocks: 0, bfree: 0, bavail: 0, files: 0, ffree: 0,
      namelen: linux.NAME_MAX, flags: 0 };
  }
}
