// The container's mount table, from config.json: spec.mounts in spec order
// (so /proc/self/mountinfo lists them as runc would), then linux.devices,
// linux.maskedPaths and linux.readonlyPaths with runc's semantics. /proc
// (procfs), /dev (devfs, from the spec's tmpfs there), /dev/pts (devpts) and
// /sys (sysfs) are mounted where the spec puts them, and added when it has
// none. Bind mounts of host directories become Gofer-served volumes; tmpfs
// and mqueue mounts new instances. A bind mount of a single host file
// (Docker's /etc/hosts, /etc/hostname, /etc/resolv.conf) is not a mount here:
// its contents are copied into the root's writable layer at boot instead
// (later host changes are not seen, guest writes stay in the sandbox).
// The plan (planMounts, from the spec alone) is in mount_plan.ts, which the
// CLI uses too; this file builds the Sentry's VFS from it.

import * as fs from 'node:fs';
import * as path from 'node:path';
import * as linux from '../../abi/linux/file.js';
import * as linuxerr from '../../abi/linux/errno.js';
import { newDevfs } from '../../sentry/fsimpl/devfs/devfs.js';
import { DevptsFS, registerDevpts } from '../../sentry/fsimpl/devpts/devpts.js';
import type { HostFS } from '../../sentry/fsimpl/hostfs/host_fs.js';
import { HostFilesystem } from '../../sentry/fsimpl/hostfs/hostfs.js';
import { MqueueFS } from '../../sentry/fsimpl/mqueue/mqueue.js';
import { OverlayFS } from '../../sentry/fsimpl/overlay/overlay.js';
import { newProcFS } from '../../sentry/fsimpl/procfs/procfs.js';
import { ProcFS } from '../../sentry/fsimpl/procfs/synthetic.js';
import { newSysfs } from '../../sentry/fsimpl/sys/sysfs.js';
import type { CgroupLimits } from '../../sentry/fsimpl/cgroupfs/cgroupfs.js';
import { newCgroupFS } from '../../sentry/fsimpl/cgroupfs/cgroupfs.js';
import { Tmpfs } from '../../sentry/fsimpl/tmpfs/tmpfs.js';
import type { TmpfsFile } from '../../sentry/fsimpl/tmpfs/tmpfs.js';
import { kernelCaller } from '../../sentry/vfs/caller.js';
import type { Caller, FileSystem, Inode } from '../../sentry/vfs/inode.js';
import { isDir, isSymlink, makeDev } from '../../sentry/vfs/inode.js';
import type { Loc } from '../../sentry/vfs/mount.js';
import { lookupAt, pathOf } from '../../sentry/vfs/resolve.js';
import { VFS } from '../../sentry/vfs/vfs.js';
import type { VolumeSpec } from '../../sentry/vfs/vfs.js';
import type { MountPlan } from './mount_plan.js';
import type { Spec } from '../specutils/spec.js';
import { SpecError } from '../specutils/spec.js';

export { planMounts } from './mount_plan.js';
export type { MountKind, MountPlan, PlannedMount } from './mount_plan.js';

/** mkdirAll makes dir and its parents in the VFS (as root). */
export function mkdirAll(vfs: VFS, dir: string, mode = 0o755): void {
  const c = rootCaller(vfs);
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

function rootCaller(vfs: VFS): Caller {
  const c = kernelCaller();
  c.fs.root = c.fs.cwd = vfs.rootLoc;
  c.fs.umask = 0;
  return c;
}

/** ContainerRoot is where the container's files come from: the Gofer-served
 *  root (hostRoot) and volumes, in the order planMounts gave them. */
export interface ContainerRoot {
  hostRoot: string;
  volumes: VolumeSpec[];
  host: HostFS;
  /** writeThrough: the root is the rootfs itself, written through its
   *  Gofer (--overlay2=none); else an overlay of it. */
  writeThrough?: boolean;
  /** cgroup: the limits a cgroup mount shows (the spec's linux.resources). */
  cgroup?: CgroupLimits;
}

/** newContainerVFS builds the container's mount tree: / is an overlay of the
 *  rootfs (read-only) under a tmpfs, or with writeThrough the rootfs itself;
 *  then plan's mounts in order. */
export function newContainerVFS(plan: MountPlan, r: ContainerRoot): VFS {
  let vfs: VFS;
  if (r.writeThrough) {
    // Others (the host, hooks) may change the rootfs too: no metadata cache,
    // as for read-write volumes.
    vfs = new VFS(new HostFilesystem(r.host, r.hostRoot, { readonly: false, cache: false }));
  } else {
    const lower = new HostFilesystem(r.host, r.hostRoot, { readonly: true, cache: true });
    vfs = new VFS(new OverlayFS(lower, new Tmpfs()));
  }
  let devpts: DevptsFS | null = null;
  for (const pm of plan.mounts) {
    let fsys: FileSystem;
    let rootPath: string | undefined;
    switch (pm.kind) {
      case 'proc': fsys = newProcFS(); break;
      case 'sysfs': fsys = newSysfs(); break;
      case 'cgroup': fsys = newCgroupFS(r.cgroup ?? {}); break;
      case 'dev': fsys = newDevfs(); break;
      case 'mqueue': fsys = new MqueueFS(); break;
      case 'devpts':
        devpts = new DevptsFS();
        fsys = devpts;
        break;
      case 'tmpfs': fsys = new Tmpfs({ mode: pm.mode ?? 0o1777, maxBytes: pm.size }); break;
      case 'volume': {
        const v = r.volumes[pm.volume!];
        // The host may change a volume under the sandbox: its metadata is never cached.
        fsys = new HostFilesystem(r.host, v.hostPath, { readonly: v.readonly, cache: false });
        rootPath = v.hostPath;
        break;
      }
    }
    const m = vfs.mountAt(pm.destination, fsys, pm.readonly);
    if (pm.source !== undefined && pm.source !== '') m.source = pm.source;
    m.rootPath = rootPath;
    m.flags = pm.flags;
  }
  if (devpts) registerDevpts(vfs, devpts);
  return vfs;
}

/** writeAll writes data to file from offset 0. */
function writeAll(file: { write(b: Uint8Array, off: number): number }, data: Uint8Array): void {
  let off = 0;
  while (off < data.length) off += file.write(data.subarray(off), off);
}

/** applyMounts copies plan's single-file bind mounts into vfs: into the
 *  root's in-memory layer, or, when the root is the rootfs itself
 *  (writeThrough), into an in-memory file mounted over the destination, so
 *  that the host's rootfs keeps its own file (runc binds over it too; like
 *  runc, a missing destination is created, empty). */
export function applyMounts(vfs: VFS, plan: MountPlan, writeThrough = false): void {
  const c = rootCaller(vfs);
  for (const f of plan.files) {
    const data = fs.readFileSync(f.hostPath);
    const mode = fs.statSync(f.hostPath).mode & 0o7777;
    mkdirAll(vfs, path.posix.dirname(f.destination));
    if (writeThrough) {
      let dest = resolveLast(vfs, c, f.destination);
      if (!dest) {
        vfs.openAt(c, linux.AT_FDCWD, f.destination, linux.O_WRONLY | linux.O_CREAT, mode).decRef();
        dest = resolveLast(vfs, c, f.destination);
      }
      if (!dest || isDir(dest.loc.node)) throw new SpecError(`mount ${f.destination}: cannot bind a file there`);
      const copy = new Tmpfs({ source: 'tmpfs', mode: 0o755 });
      const node = copy.root.create(c, 'file', mode) as TmpfsFile;
      writeAll(node, data);
      const m = vfs.mountAt(dest.path, copy, f.readonly, node);
      m.rootPath = '/file';
      continue;
    }
    const file = vfs.openAt(c, linux.AT_FDCWD, f.destination, linux.O_WRONLY | linux.O_CREAT | linux.O_TRUNC, mode);
    try {
      writeAll(file, data);
    } finally {
      file.decRef();
    }
  }
}

/** Device is one linux.devices entry. */
export interface Device {
  path: string;
  type: 'c' | 'b' | 'p';
  major: number;
  minor: number;
  fileMode: number;
  uid: number;
  gid: number;
}

/** parseDevices checks linux.devices. */
export function parseDevices(spec: Spec): Device[] {
  const out: Device[] = [];
  for (const [i, d] of (spec.linux?.devices ?? []).entries()) {
    const o = d as Record<string, unknown>;
    const where = `linux.devices[${i}]`;
    const p = o?.path;
    if (typeof p !== 'string' || !p.startsWith('/')) throw new SpecError(`${where}: path must be absolute`);
    const t = o.type === 'u' ? 'c' : o.type;
    if (t !== 'c' && t !== 'b' && t !== 'p') throw new SpecError(`${where}: type must be c, b, u or p`);
    const num = (k: string, dflt: number): number => {
      const v = o[k] ?? dflt;
      if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) throw new SpecError(`${where}: bad ${k}`);
      return v;
    };
    if (t !== 'p' && (o.major === undefined || o.minor === undefined)) throw new SpecError(`${where}: needs major and minor`);
    out.push({ path: path.posix.normalize(p), type: t, major: num('major', 0), minor: num('minor', 0),
      fileMode: num('fileMode', 0o666) & 0o7777, uid: num('uid', 0), gid: num('gid', 0) });
  }
  return out;
}

/** lookupOrNull resolves p as root, or null when it does not exist. */
function lookupOrNull(c: Caller, p: string): Loc | null {
  try {
    return lookupAt(c, linux.AT_FDCWD, p, true);
  } catch (e) {
    if (e === linuxerr.ENOENT || e === linuxerr.ENOTDIR || e === linuxerr.ELOOP) return null;
    throw e;
  }
}

/** resolveLast follows symlinks in p's last component (as mount(2) does for
 *  its target) and returns the path reached and its location, or null when
 *  nothing is there (or the links loop). */
function resolveLast(vfs: VFS, c: Caller, p: string): { path: string; loc: Loc } | null {
  for (let i = 0; i < linux.MAXSYMLINKS; i++) {
    let loc: Loc;
    try {
      loc = lookupAt(c, linux.AT_FDCWD, p, false);
    } catch (e) {
      if (e === linuxerr.ENOENT || e === linuxerr.ENOTDIR || e === linuxerr.ELOOP) return null;
      throw e;
    }
    if (!isSymlink(loc.node)) return { path: p, loc };
    const target = vfs.readlinkAt(c, linux.AT_FDCWD, p);
    p = path.posix.resolve(path.posix.dirname(p), target);
  }
  return null;
}

/** pinned returns loc's node, made the node later lookups of its path find
 *  (procfs makes nodes afresh on each lookup; a mount holds on to one). */
function pinned(loc: Loc): Inode {
  if (loc.mnt.fs instanceof ProcFS) loc.mnt.fs.pin(loc.node);
  return loc.node;
}

/** finishContainerRoot applies what the spec asks of the mounted tree:
 *  /dev/ptmx as a link into the container's devpts, linux.devices, then
 *  maskedPaths and readonlyPaths (runc's order: masks last). */
export function finishContainerRoot(vfs: VFS, spec: Spec, plan: MountPlan): void {
  const c = rootCaller(vfs);
  // The runtime spec's /dev/ptmx is a symlink to pts/ptmx, so that it opens
  // the container's own devpts instance.
  if (plan.mounts.some((m) => m.kind === 'devpts') && plan.mounts.some((m) => m.kind === 'dev')) {
    try {
      vfs.unlinkAt(c, linux.AT_FDCWD, '/dev/ptmx', 0);
    } catch (e) {
      if (e !== linuxerr.ENOENT) throw e;
    }
    vfs.symlinkAt(c, 'pts/ptmx', linux.AT_FDCWD, '/dev/ptmx');
  }
  for (const d of parseDevices(spec)) {
    mkdirAll(vfs, path.posix.dirname(d.path));
    const old = lookupOrNull(c, d.path);
    if (old && isDir(old.node)) throw new SpecError(`linux.devices: ${d.path} is a directory`);
    if (old) vfs.unlinkAt(c, linux.AT_FDCWD, d.path, 0);
    const type = d.type === 'c' ? linux.S_IFCHR : d.type === 'b' ? linux.S_IFBLK : linux.S_IFIFO;
    vfs.mknodAt(c, linux.AT_FDCWD, d.path, type | d.fileMode, makeDev(d.major, d.minor));
    vfs.chownAt(c, linux.AT_FDCWD, d.path, d.uid, d.gid, linux.AT_SYMLINK_NOFOLLOW);
    // mknod drops nothing with umask 0, but S_ISUID & co. need an explicit chmod (after chown).
    vfs.chmodAt(c, linux.AT_FDCWD, d.path, d.fileMode, 0);
  }
  for (const given of spec.linux?.readonlyPaths ?? []) {
    if (!given.startsWith('/')) throw new SpecError(`linux.readonlyPaths: ${given} is not absolute`);
    const r = resolveLast(vfs, c, given);
    if (!r) continue;
    const { path: p, loc } = r;
    // A read-only bind mount of the path over itself.
    const m = vfs.mountAt(p, loc.mnt.fs, true, pinned(loc));
    m.source = loc.mnt.source;
    m.flags = [...loc.mnt.flags];
    // mountinfo's root: the path inside the file system (directories only: files keep no parent).
    if (isDir(loc.node)) {
      const rel = pathOf(loc, { mnt: loc.mnt, node: loc.mnt.root });
      m.rootPath = rel === '/' ? loc.mnt.rootPath : (loc.mnt.rootPath ?? '').replace(/\/$/, '') + rel;
    }
  }
  for (const given of spec.linux?.maskedPaths ?? []) {
    if (!given.startsWith('/')) throw new SpecError(`linux.maskedPaths: ${given} is not absolute`);
    const r = resolveLast(vfs, c, given);
    if (!r) continue;
    const { path: p, loc } = r;
    if (isDir(loc.node)) {
      // An empty read-only tmpfs over a directory.
      pinned(loc);
      vfs.mountAt(p, new Tmpfs({ mode: 0o755, maxBytes: 0 }), true);
    } else {
      // A null device over a file: it reads as empty and swallows writes (runc binds /dev/null).
      pinned(loc);
      const nullfs = new Tmpfs({ source: 'tmpfs', mode: 0o755, maxBytes: 0 });
      const node = nullfs.root.mknod(c, 'null', linux.S_IFCHR | 0o666, makeDev(1, 3));
      const m = vfs.mountAt(p, nullfs, false, node);
      m.rootPath = '/null';
    }
  }
}
