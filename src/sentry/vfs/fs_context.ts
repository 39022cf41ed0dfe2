// FSContext is a task's file system context (Linux's struct fs_struct): root,
// working directory and umask. Shared between tasks created with CLONE_FS.

import type { Loc } from './mount.js';

export class FSContext {
  umask = 0o022;
  /** root and cwd are positions in the VFS mount tree (set by VFS.initFSContext). */
  root: Loc | null = null;
  cwd: Loc | null = null;

  fork(): FSContext {
    const c = new FSContext();
    c.umask = this.umask;
    c.root = this.root;
    c.cwd = this.cwd;
    return c;
  }
}
