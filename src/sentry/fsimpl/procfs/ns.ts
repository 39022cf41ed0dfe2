// /proc/[pid]/ns: one link per namespace type, reading "ipc:[4026531839]",
// that leads to the namespace's inode on nsfs. The sandbox has one namespace
// of each type, shared by all its processes, numbered as Linux numbers its
// initial namespaces.

import * as linuxerr from '../../../abi/linux/errno.js';
import * as linux from '../../../abi/linux/file.js';
import type { FileDescription, FileDescriptionImpl, Stat } from '../../vfs/file_description.js';
import { emptyStat } from '../../vfs/file_description.js';
import type { Caller, FileSystem, Opened, Statfs } from '../../vfs/inode.js';
import { Inode, allocAnonDev } from '../../vfs/inode.js';
import type { Loc } from '../../vfs/mount.js';
import { Mount } from '../../vfs/mount.js';
import type { Spec } from './synthetic.js';
import { link } from './synthetic.js';

const NSFS_MAGIC = 0x6e736673;

/** The namespace types in /proc/[pid]/ns order, with their CLONE_NEW* flag and inode. */
export const NAMESPACES: ReadonlyArray<{ name: string; type: string; flag: number; ino: number }> = [
  { name: 'cgroup', type: 'cgroup', flag: 0x02000000, ino: 0xeffffffb },
  { name: 'ipc', type: 'ipc', flag: 0x08000000, ino: 0xefffffff },
  { name: 'mnt', type: 'mnt', flag: 0x00020000, ino: 0xf0000001 },
  { name: 'net', type: 'net', flag: 0x40000000, ino: 0xf0000000 },
  { name: 'pid', type: 'pid', flag: 0x20000000, ino: 0xeffffffc },
  { name: 'pid_for_children', type: 'pid', flag: 0x20000000, ino: 0xeffffffc },
  { name: 'time', type: 'time', flag: 0x00000080, ino: 0xeffffffa },
  { name: 'time_for_children', type: 'time', flag: 0x00000080, ino: 0xeffffffa },
  { name: 'user', type: 'user', flag: 0x10000000, ino: 0xeffffffd },
  { name: 'uts', type: 'uts', flag: 0x04000000, ino: 0xeffffffe },
];

class NsFS implements FileSystem {
  readonly type = 'nsfs';
  readonly source = 'nsfs';
  readonly options = '';
  readonly dev = allocAnonDev();
  root!: Inode;
  statfs(): Statfs {
    return { type: NSFS_MAGIC, bsize: 4096, frsize: 4096, blocks: 0, bfree: 0, bavail: 0, files: 0, ffree: 0,
      namelen: 255, flags: 0 };
  }
}


/** NsInode is one namespace: a read-only regular file that holds nothing. */
export class NsInode extends Inode {
  constructor(readonly fs: NsFS, readonly ino: number, readonly nsType: string, readonly flag: number) {
    super();
  }
  get mode(): number {
    return linux.S_IFREG | 0o444;
  }
  get uid(): number {
    return 0;
  }
  get gid(): number {
    return 0;
  }
  stat(): Stat {
    return emptyStat(this.fs.dev, this.ino, this.mode, 1);
  }
  override open(c: Caller, flags: number): Opened {
    void c; void flags;
    return new NsFile(this);
  }
}

/** NsFile is an open namespace (for setns and the NS_GET_* ioctls); reads fail with EINVAL. */
export class NsFile implements FileDescriptionImpl {
  constructor(readonly ns: NsInode) {}
  read(): number {
    throw linuxerr.EINVAL;
  }
  stat(_fd: FileDescription): Stat {
    return this.ns.stat();
  }
}

class NsRoot extends Inode {
  readonly ino = 1;
  constructor(readonly fs: NsFS) {
    super();
  }
  get mode(): number {
    return linux.S_IFDIR | 0o555;
  }
  get uid(): number {
    return 0;
  }
  get gid(): number {
    return 0;
  }
  stat(): Stat {
    return emptyStat(this.fs.dev, 1, this.mode, 2);
  }
}

const nsfs = new NsFS();
nsfs.root = new NsRoot(nsfs);
const nsMount = new Mount(nsfs, nsfs.root, null, null, true);
const nodes = new Map<number, NsInode>();

function nodeFor(ino: number, type: string, flag: number): NsInode {
  let n = nodes.get(ino);
  if (!n) nodes.set(ino, (n = new NsInode(nsfs, ino, type, flag)));
  return n;
}

/** nsTable makes the entries of /proc/[pid]/ns; check throws unless the
 *  caller may look at the process's namespaces (ptrace read access). */
export function nsTable(check: (c: Caller) => void): Record<string, Spec> {
  const table: Record<string, Spec> = {};
  for (const ns of NAMESPACES) {
    table[ns.name] = link((c) => {
      check(c);
      return `${ns.type}:[${ns.ino}]`;
    }, (c): Loc => {
      check(c);
      return { mnt: nsMount, node: nodeFor(ns.ino, ns.type, ns.flag) };
    });
  }
  return table;
}
