// kernelCaller is the Caller the Sentry uses for its own file system work
// (building the mount tree): root with every capability.

import { Credentials } from '../kernel/creds.js';
import { FDTable } from '../kernel/fd_table.js';
import { FSContext } from './fs_context.js';
import type { Caller } from './inode.js';

export function kernelCaller(): Caller {
  return { fs: new FSContext(), creds: new Credentials(), fdTable: new FDTable() };
}
