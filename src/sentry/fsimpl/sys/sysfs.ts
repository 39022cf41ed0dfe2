// /sys, minimal: a read-only tree with what common programs read (the CPU
// lists glibc's get_nprocs uses, the transparent huge page policy).

import { HOST_CPUS } from '../../../platform/hostproc.js';
import { kernelCaller } from '../../vfs/caller.js';
import type { Caller } from '../../vfs/inode.js';
import type { TmpfsDir } from '../tmpfs/tmpfs.js';
import { Tmpfs, TmpfsFile } from '../tmpfs/tmpfs.js';

export const SYSFS_MAGIC = 0x62656572;

function mkdirs(c: Caller, root: TmpfsDir, path: string): TmpfsDir {
  let d = root;
  for (const name of path.split('/')) d = (d.entries.get(name) as TmpfsDir | undefined) ?? (d.mkdir(c, name, 0o755) as TmpfsDir);
  return d;
}

function put(c: Caller, d: TmpfsDir, name: string, content: string): void {
  const f = d.create(c, name, 0o444) as TmpfsFile;
  f.write(Buffer.from(content), 0);
}

/** newSysfs builds /sys (mount it read-only). */
export function newSysfs(): Tmpfs {
  const fs = new Tmpfs({ type: 'sysfs', source: 'sysfs', mode: 0o555, magic: SYSFS_MAGIC, options: '' });
  const c = kernelCaller();
  const cpus = `0-${HOST_CPUS - 1}\n`;
  const cpu = mkdirs(c, fs.root, 'devices/system/cpu');
  for (const f of ['online', 'possible', 'present']) put(c, cpu, f, cpus);
  mkdirs(c, fs.root, 'fs/cgroup');
  // Guest memory never gets transparent huge pages from the Sentry
  // (MADV_HUGEPAGE is a hint it ignores): say so to those who check (redis,
  // jemalloc, databases), rather than leave the files missing.
  const thp = mkdirs(c, fs.root, 'kernel/mm/transparent_hugepage');
  put(c, thp, 'enabled', 'always madvise [never]\n');
  put(c, thp, 'defrag', 'always defer defer+madvise madvise [never]\n');
  mkdirs(c, fs.root, 'class');
  mkdirs(c, fs.root, 'bus');
  return fs;
}
