// hostRlimits: the resource limits runsc runs with (host_rlimits.ts), over
// the Sentry's defaults for any it could not read.

import type { Rlimits } from '../../sentry/kernel/thread_group.js';
import { defaultRlimits } from '../../sentry/kernel/thread_group.js';
import { readHostRlimits } from './host_rlimits.js';
import type { HostRlimits } from './host_rlimits.js';

/** withHostRlimits returns the default limits with host's rows in place of theirs. */
export function withHostRlimits(host: HostRlimits): Rlimits {
  const limits = defaultRlimits();
  host.forEach((r, i) => {
    if (r && i < limits.length) limits[i] = r;
  });
  return limits;
}

export function hostRlimits(): Rlimits {
  return withHostRlimits(readHostRlimits());
}
