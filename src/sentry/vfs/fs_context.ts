// FSContext is a task's file system context (Linux's struct fs_struct): root,
// working directory and umask. Shared between tasks created with CLONE_FS.

export class FSContext {
  umask = 0o022;
  /** root and cwd are VFS locations; their type belongs to the VFS. */
  root: unknown = null;
  cwd: unknown = null;

  fork(): FSContext {
    const c = new FSContext();
    c.umask = this.umask;
    c.root = this.root;
    c.cwd = this.cwd;
    return c;
  }
}
