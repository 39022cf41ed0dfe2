// The Sentry's side of --network=sandbox for `runsc do` (network.ts is
// runsc's): the TAP link attached to the kernel's stack, and the sandbox's
// /etc files written into its root.

import type { FileDescription } from '../../sentry/vfs/file_description.js';
import type { Kernel } from '../../sentry/kernel/kernel.js';
import { configureNetwork } from '../../sentry/socket/netstack/stack.js';
import * as linux from '../../abi/linux/file.js';
import * as linuxerr from '../../abi/linux/errno.js';
import { kernelCaller } from '../../sentry/vfs/caller.js';
import type { VFS } from '../../sentry/vfs/vfs.js';
import { mkdirAll } from './mounts.js';
import { setupDoNetwork } from './network.js';
import type { DoNetwork, GuestFile } from './network.js';

/** attachDoNetwork is the in-process form (the Sentry inside runsc, as `do` runs today): the TAP
 *  link attached to k's stack. Without the privileges for it, the sandbox keeps loopback only
 *  and warn explains. Returns the link, or null. */
export function attachDoNetwork(k: Kernel, ip: string, warn: (msg: string) => void): DoNetwork | null {
  let net: DoNetwork;
  try {
    net = setupDoNetwork({ ip });
  } catch (e) {
    warn(`--network=sandbox: cannot make the host link (${(e as Error).message}); the sandbox has loopback only`);
    return null;
  }
  configureNetwork(k, net.sentryConfig(net.fd));
  return net;
}

/** installGuestFiles writes files into the sandbox's root (its writable,
 *  in-memory layer: the read-only host root below is not touched). A
 *  symlink in the way (/etc/resolv.conf -> systemd's stub file) is replaced,
 *  not followed. warn reports a file that could not be written. */
export function installGuestFiles(vfs: VFS, files: GuestFile[], warn: (msg: string) => void): void {
  const c = kernelCaller();
  c.fs.root = c.fs.cwd = vfs.rootLoc;
  c.fs.umask = 0;
  for (const f of files) {
    try {
      mkdirAll(vfs, f.path.slice(0, f.path.lastIndexOf('/')) || '/');
      try {
        vfs.unlinkAt(c, linux.AT_FDCWD, f.path, 0);
      } catch (e) {
        if (e !== linuxerr.ENOENT) throw e;
      }
      const file = vfs.openAt(c, linux.AT_FDCWD, f.path, linux.O_WRONLY | linux.O_CREAT | linux.O_EXCL | linux.O_NOFOLLOW, f.mode);
      writeWhole(file, f.data);
    } catch (e) {
      warn(`${f.path}: not written (${(e as Error).message})`);
    }
  }
}

/** refreshGuestFiles writes new contents into files the sandbox already copied
 *  in (single-file bind mounts, mounts.ts applyMounts) that the OCI hooks
 *  rewrote after boot: Docker's resolv.conf. Before the container starts
 *  only; the path is opened as applyMounts created it. warn reports a file
 *  that could not be written. */
export function refreshGuestFiles(vfs: VFS, files: { path: string; data: string }[], warn: (msg: string) => void): void {
  const c = kernelCaller();
  c.fs.root = c.fs.cwd = vfs.rootLoc;
  for (const f of files) {
    if (typeof f?.path !== 'string' || !f.path.startsWith('/') || typeof f.data !== 'string') {
      warn('refreshing a file: bad request');
      continue;
    }
    try {
      const file = vfs.openAt(c, linux.AT_FDCWD, f.path, linux.O_WRONLY | linux.O_TRUNC, 0);
      writeWhole(file, f.data);
    } catch (e) {
      warn(`${f.path}: not refreshed (${(e as Error).message})`);
    }
  }
}

/** writeWhole writes text at the start of a file opened for writing, then drops the caller's reference. */
function writeWhole(file: FileDescription, text: string): void {
  try {
    const data = new TextEncoder().encode(text);
    let off = 0;
    while (off < data.length) off += file.write(data.subarray(off), off);
  } finally {
    file.decRef();
  }
}
