// spec.mounts for the sandbox's VFS. The VFS already has /proc (procfs), /dev
// (devfs, with /dev/pts and /dev/shm directories) and /sys (sysfs), so mounts
// of those types at those places are satisfied as they are. Bind mounts of
// host directories become Gofer-served volumes; tmpfs mounts new Tmpfs
// instances. A bind mount of a single file (Docker's /etc/hosts, /etc/hostname,
// /etc/resolv.conf) cannot be a mount point in this VFS: its contents are
// copied into the root's writable layer at boot instead (later host changes
// are not seen, guest writes stay in the sandbox).

import * as fs from 'node:fs';
import * as path from 'node:path';
import * as linux from '../../abi/linux/file.js';
import * as linuxerr from '../../abi/linux/errno.js';
import { Tmpfs } from '../../sentry/fsimpl/tmpfs/tmpfs.js';
import { kernelCaller } from '../../sentry/vfs/caller.js';
import type { VFS, VolumeSpec } from '../../sentry/vfs/vfs.js';
import type { Spec } from '../specutils/spec.js';
import { SpecError } from '../specutils/spec.js';

export interface TmpfsMount {
  destination: string;
  mode?: number;
  size?: number;
  readonly: boolean;
}

export interface MountPlan {
  volumes: VolumeSpec[];
  tmpfs: TmpfsMount[];
  /** files: single-file bind mounts, copied in. */
  files: { hostPath: string; destination: string; readonly: boolean }[];
  /** notes: mounts that are satisfied by what exists, or skipped, and why. */
  notes: string[];
}

/** Mounts the VFS provides already (type and destination). */
const BUILTIN: Record<string, string[]> = {
  proc: ['/proc'],
  sysfs: ['/sys'],
  tmpfs: ['/dev'],
  devpts: ['/dev/pts'],
};

/** parseSize reads tmpfs's size= (k, m, g suffixes). */
function parseSize(v: string): number | undefined {
  const m = /^(\d+)([kmgKMG]?)$/.exec(v);
  if (!m) return undefined;
  const mult = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[m[2].toLowerCase()] ?? 1;
  return Number(m[1]) * mult;
}

/** planMounts sorts spec.mounts into what boot does with each. */
export function planMounts(spec: Spec, bundle: string): MountPlan {
  const plan: MountPlan = { volumes: [], tmpfs: [], files: [], notes: [] };
  for (const m of spec.mounts ?? []) {
    const dest = path.posix.normalize(m.destination);
    const opts = m.options ?? [];
    const ro = opts.includes('ro');
    const type = m.type ?? '';
    const bind = type === 'bind' || opts.includes('bind') || opts.includes('rbind');
    if (bind) {
      if (!m.source) throw new SpecError(`mount ${dest}: a bind mount needs a source`);
      const src = path.resolve(bundle, m.source);
      let st: fs.Stats;
      try {
        st = fs.statSync(src);
      } catch {
        throw new SpecError(`mount ${dest}: source ${src}: no such file or directory`);
      }
      if (st.isDirectory()) plan.volumes.push({ hostPath: src, guestPath: dest, readonly: ro });
      else if (st.isFile()) plan.files.push({ hostPath: src, destination: dest, readonly: ro });
      else plan.notes.push(`mount ${dest}: bind mount of a special file ${src} is not supported; skipped`);
      continue;
    }
    if (BUILTIN[type]?.includes(dest)) {
      if (type === 'devpts') plan.notes.push('devpts: /dev/pts of devfs is used (no private pty instance)');
      continue;
    }
    if (type === 'tmpfs') {
      const t: TmpfsMount = { destination: dest, readonly: ro };
      for (const o of opts) {
        if (o.startsWith('mode=')) t.mode = parseInt(o.slice(5), 8);
        else if (o.startsWith('size=')) t.size = parseSize(o.slice(5));
      }
      plan.tmpfs.push(t);
      continue;
    }
    plan.notes.push(`mount ${dest} of type ${type || '(none)'} is not supported; skipped`);
  }
  return plan;
}

/** mkdirAll makes dir and its parents in the VFS (as root). */
export function mkdirAll(vfs: VFS, dir: string, mode = 0o755): void {
  const c = kernelCaller();
  c.fs.root = c.fs.cwd = vfs.rootLoc;
  let cur = '';
  for (const part of dir.split('/').filter((p) => p)) {
    cur += '/' + part;
    try {
      vfs.mkdirAt(c, linux.AT_FDCWD, cur, mode);
    } catch (e) {
      if (e !== linuxerr.EEXIST) throw e;
    }
  }
}

/** applyMounts mounts plan's tmpfs instances and copies its files into vfs. */
export function applyMounts(vfs: VFS, plan: MountPlan): void {
  for (const t of plan.tmpfs) {
    const fsys = new Tmpfs({ mode: t.mode ?? 0o1777, maxBytes: t.size });
    vfs.mountAt(t.destination, fsys, t.readonly);
  }
  const c = kernelCaller();
  c.fs.root = c.fs.cwd = vfs.rootLoc;
  c.fs.umask = 0;
  for (const f of plan.files) {
    const data = fs.readFileSync(f.hostPath);
    const mode = fs.statSync(f.hostPath).mode & 0o7777;
    mkdirAll(vfs, path.posix.dirname(f.destination));
    const file = vfs.openAt(c, linux.AT_FDCWD, f.destination, linux.O_WRONLY | linux.O_CREAT | linux.O_TRUNC, mode);
    try {
      let off = 0;
      while (off < data.length) off += file.write(data.subarray(off), off);
    } finally {
      file.decRef();
    }
  }
}
