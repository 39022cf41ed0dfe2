// Mount is one mounted file system in the sandbox's mount tree; Loc is a
// position in the tree (gVisor's VirtualDentry): a mount and an inode of it.
// The same inode is a different place under two mounts (bind mounts), so paths
// and ".." are always worked out on Locs.

import type { FileSystem, Inode } from './inode.js';

let nextMountId = 1;

export class Mount {
  readonly id = nextMountId++;
  readonly fs: FileSystem;
  /** root is the inode this mount shows at its mount point (a bind mount may show a subtree). */
  readonly root: Inode;
  /** parent and point: where the mount is attached (null for the root mount). */
  readonly parent: Mount | null;
  readonly point: Inode | null;
  /** readonly mounts refuse every change with EROFS. */
  readonly readonly: boolean;
  /** Mounts attached at inodes of this mount. */
  readonly children = new Map<Inode, Mount>();
  /** source, when set, is the mount's device name in /proc/mounts and
   *  mountinfo instead of its file system's (Linux keeps it per mount: the
   *  source argument of mount(2)). */
  source: string | undefined;
  /** rootPath, when set, is mountinfo's root field: the bind-mounted
   *  directory's path in its file system (a host path for volumes). */
  rootPath: string | undefined;
  /** flags are per-mount options mountinfo lists after rw/ro (nosuid, nodev,
   *  noexec); the VFS enforces noexec. */
  flags: string[] = [];
  /** fileAt: for a file mounted on a file, the directory and name it is
   *  mounted at (a file inode knows no parent to render its path from). */
  fileAt: { dir: Loc; name: string } | undefined;

  constructor(fs: FileSystem, root: Inode, parent: Mount | null, point: Inode | null, readonly: boolean) {
    this.fs = fs;
    this.root = root;
    this.parent = parent;
    this.point = point;
    this.readonly = readonly;
  }
}

export interface Loc {
  readonly mnt: Mount;
  readonly node: Inode;
}

/** sameLoc compares two locations. */
export function sameLoc(a: Loc, b: Loc): boolean {
  return a.mnt === b.mnt && a.node === b.node;
}
