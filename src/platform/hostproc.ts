// The Sentry's window on its own /proc: the procfs of the sandbox's PID
// namespace, mounted in the Sentry's otherwise empty root (see
// src/runsc/boot/confine.ts). Every read goes through one directory fd, the
// only base the Sentry's seccomp filter lets it open anything from, and only
// read-only. Files here describe the Sentry and its stubs (CPU times, maps of
// shared memory, fd positions), never the guest's view of /proc. One
// exception: with --network=host the Sentry's network namespace is the
// host's, and self/net/* is what the guest's /proc/net shows of it
// (src/sentry/socket/hostinet/inventory.ts).

import { closeSync, openSync, readSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { native } from './ptrace/native.js';

const O_RDONLY = 0;
const O_DIRECTORY = 0o200000;
const O_CLOEXEC = 0o2000000;

let procFd = -1;

/** hostProcDir returns the directory fd of the Sentry's /proc, opening it on first use. */
export function hostProcDir(): number {
  if (procFd < 0) procFd = openSync('/proc', O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  return procFd;
}

/** reopenHostProcDir opens /proc again: after the sandbox mounted its own
 *  PID namespace's procfs over it, a descriptor opened earlier (by a module
 *  initializer) would still name the host's. */
export function reopenHostProcDir(): number {
  if (procFd >= 0) closeSync(procFd);
  procFd = -1;
  return hostProcDir();
}

/** readHostProc reads /proc/<rel> of the Sentry's PID namespace; throws when it can't. */
export function readHostProc(rel: string): Buffer {
  const fd = native.openat(hostProcDir(), rel, O_RDONLY | O_CLOEXEC, 0);
  if (fd < 0) throw Object.assign(new Error(`open /proc/${rel}: errno ${-fd}`), { errno: -fd });
  try {
    const chunks: Buffer[] = [];
    for (;;) {
      const b = Buffer.allocUnsafe(65536);
      const n = readSync(fd, b, 0, b.length, null);
      if (n <= 0) break;
      chunks.push(b.subarray(0, n));
    }
    return chunks.length === 1 ? chunks[0] : Buffer.concat(chunks);
  } finally {
    closeSync(fd);
  }
}

/** readHostProcText is readHostProc decoded as latin1. */
export function readHostProcText(rel: string): string {
  return readHostProc(rel).toString('latin1');
}

/** hostMemory returns the host's total and available memory in bytes, from
 *  /proc/meminfo (node:os reads it by path, which the confined Sentry can't). */
export function hostMemory(): { total: number; free: number } {
  let text = '';
  try {
    text = readHostProcText('meminfo');
  } catch {
    return { total: 0, free: 0 };
  }
  const kib = (key: string): number => Number(new RegExp(`^${key}:\\s+(\\d+)`, 'm').exec(text)?.[1] ?? 0) * 1024;
  return { total: kib('MemTotal'), free: kib('MemAvailable') || kib('MemFree') };
}

/** HOST_CPUS is the number of CPUs the Sentry may run on, read once at
 *  start-up: libuv answers availableParallelism() from cgroup files it opens
 *  by path, which the confined Sentry can't. */
export const HOST_CPUS = Math.max(1, availableParallelism());

/** hostLoadavg is os.loadavg() read through the /proc fd (libuv opens /proc/loadavg by path). */
export function hostLoadavg(): number[] {
  try {
    return readHostProcText('loadavg').split(' ').slice(0, 3).map(Number);
  } catch {
    return [0, 0, 0];
  }
}
