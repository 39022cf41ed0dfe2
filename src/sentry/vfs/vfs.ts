// Placeholder for the VFS (mount tree, path resolution). The kernel relies on
// these methods; the VFS work fills them in.

import * as linuxerr from '../../abi/linux/errno.js';
import type { Task } from '../kernel/task.js';
import type { FileDescription } from './file_description.js';
import type { FSContext } from './fs_context.js';

export class VFS {
  /** openAt resolves path relative to dirfd (or AT_FDCWD) for t and opens it. */
  openAt(t: Task, dirfd: number, path: string, flags: number, mode: number): FileDescription {
    void t; void dirfd; void path; void flags; void mode;
    throw linuxerr.ENOENT;
  }

  /** initFSContext points a new context's root and cwd at the root (and cwd path). */
  initFSContext(fs: FSContext, cwd: string): void {
    void fs; void cwd;
  }
}
