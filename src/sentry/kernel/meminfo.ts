// The sandbox's memory as its guests see it (/proc/meminfo, sysinfo(2)):
// the sandbox's limit as the total when it has one, and as used what the
// sandbox holds: guest anonymous memory (the platform's memory file) and
// guest data kept by the Sentry (tmpfs files, pipe and socket buffers). The
// host's other processes are not the guest's business, except that free
// memory never exceeds what the host has available.

import { hostMemory } from '../../platform/hostproc.js';
import type { Platform } from '../../platform/platform.js';
import { sandboxLimits } from './limits.js';

export interface MemInfo {
  /** total: the sandbox's memory limit, or the host's memory (bytes). */
  total: number;
  free: number;
  /** anon: guest anonymous memory resident now. */
  anon: number;
  /** sentry: guest data held by the Sentry (file system pages, buffers). */
  sentry: number;
}

/** memInfo returns the sandbox's memory figures. */
export function memInfo(platform: Platform | undefined): MemInfo {
  const host = hostMemory();
  const limit = sandboxLimits().limit;
  const total = limit !== undefined && (host.total === 0 || limit < host.total) ? limit : host.total;
  const anon = platform?.memoryUsage?.() ?? 0;
  const sentry = sandboxLimits().memoryUsed;
  let free = Math.max(0, total - anon - sentry);
  if (host.free > 0) free = Math.min(free, host.free);
  return { total, free, anon, sentry };
}
