// SandboxLimits: what one sandbox's guests may make the Sentry hold, so that a
// guest exhausts its own budget rather than the Sentry (or the host). Three
// counts: bytes of guest data kept by the Sentry (tmpfs file data, pipe
// buffers, socket queues), guest threads, and fds open across the sandbox.
//
// One Sentry process serves one sandbox, so the accounting is process-wide:
// file systems, pipes and socket queues have no Kernel at hand, and reach the
// active limits through sandboxLimits(). The Kernel configures them once.
// Everything here is synchronous and never throws: callers turn a refusal into
// the errno Linux gives on a full or limited system (ENOSPC, ENOMEM, EPERM,
// EAGAIN, ENFILE).

import { hostMemory } from '../../platform/hostproc.js';

/** Fallback budget when the host's memory size can't be read. */
const FALLBACK_MEMORY = 1 << 30;
/** Default cap on guest threads (Linux's threads-max is of this order on small hosts). */
export const DEFAULT_MAX_TASKS = 16384;
/** Default cap on fds open across the sandbox: Linux's nr_open less headroom. */
export const DEFAULT_MAX_FILES = (1 << 20) - 4096;

export interface LimitsOptions {
  /** memoryLimit is the memory limit of the cgroup the sandbox runs in, if known (bytes). */
  memoryLimit?: number;
  /** maxTasks caps guest threads (clone beyond it: EAGAIN). */
  maxTasks?: number;
  /** maxFiles caps fds open across the sandbox (beyond it: ENFILE). */
  maxFiles?: number;
}

export class SandboxLimits {
  private budget_ = -1;
  private memoryLimit: number | undefined;
  /** memoryUsed is the guest data the Sentry holds now (bytes). */
  memoryUsed = 0;
  maxTasks = DEFAULT_MAX_TASKS;
  maxFiles = DEFAULT_MAX_FILES;
  /** openFiles counts fds installed in every fd table of the sandbox. */
  openFiles = 0;

  /** configure sets the limits; unset fields keep their current values. */
  configure(o: LimitsOptions): void {
    if (o.memoryLimit !== undefined && o.memoryLimit > 0) {
      this.memoryLimit = o.memoryLimit;
      this.budget_ = -1;
    }
    if (o.maxTasks !== undefined && o.maxTasks > 0) this.maxTasks = o.maxTasks;
    if (o.maxFiles !== undefined && o.maxFiles > 0) this.maxFiles = o.maxFiles;
  }

  /** limit is the configured memory limit of the sandbox (bytes), if any. */
  get limit(): number | undefined {
    return this.memoryLimit;
  }

  /** memoryBudget is the smaller of a quarter of host RAM and the configured limit.
   *  Computed on first use: host /proc is readable only once the boot set it up. */
  get memoryBudget(): number {
    if (this.budget_ < 0) {
      const total = hostMemory().total;
      const quarter = total > 0 ? Math.floor(total / 4) : FALLBACK_MEMORY;
      this.budget_ = this.memoryLimit !== undefined ? Math.min(quarter, this.memoryLimit) : quarter;
    }
    return this.budget_;
  }

  /** available is how many more bytes may be charged. */
  available(): number {
    return Math.max(0, this.memoryBudget - this.memoryUsed);
  }

  /** charge accounts bytes of guest data; false (nothing charged) when over budget. */
  charge(bytes: number): boolean {
    if (bytes <= 0) return true;
    if (this.memoryUsed + bytes > this.memoryBudget) return false;
    this.memoryUsed += bytes;
    return true;
  }

  /** forceCharge accounts bytes that can't be refused (data put back after a
   *  failed copy-out, a queue mirror of a check already made). */
  forceCharge(bytes: number): void {
    if (bytes > 0) this.memoryUsed += bytes;
  }

  /** uncharge returns bytes charged before. */
  uncharge(bytes: number): void {
    if (bytes <= 0) return;
    this.memoryUsed = Math.max(0, this.memoryUsed - bytes);
  }

  /** chargeFiles accounts n more open fds; false (nothing charged) past maxFiles. */
  chargeFiles(n: number): boolean {
    if (this.openFiles + n > this.maxFiles) return false;
    this.openFiles += n;
    return true;
  }

  /** unchargeFiles returns n fds. */
  unchargeFiles(n: number): void {
    this.openFiles = Math.max(0, this.openFiles - n);
  }
}

let active = new SandboxLimits();

/** sandboxLimits returns the limits of the sandbox this Sentry serves. */
export function sandboxLimits(): SandboxLimits {
  return active;
}

/** resetSandboxLimits starts fresh accounting (unit tests only). */
export function resetSandboxLimits(): SandboxLimits {
  active = new SandboxLimits();
  return active;
}

/** parseSize reads "64M", "1G", "4096k" or a plain byte count; NaN if malformed. */
export function parseSize(s: string): number {
  const m = /^(\d+)([kKmMgG]?)$/.exec(s.trim());
  if (!m) return NaN;
  const mult = { '': 1, k: 1 << 10, m: 1 << 20, g: 1 << 30 }[m[2].toLowerCase() as '' | 'k' | 'm' | 'g'];
  return Number(m[1]) * mult;
}

/** testOnlyLimits reads TSVISOR_TESTONLY_MEMORY_LIMIT (a size), TSVISOR_TESTONLY_MAX_TASKS
 *  and TSVISOR_TESTONLY_MAX_FILES, so tests can run a sandbox with small limits. */
export function testOnlyLimits(env: NodeJS.ProcessEnv): LimitsOptions {
  const o: LimitsOptions = {};
  const mem = env.TSVISOR_TESTONLY_MEMORY_LIMIT;
  if (mem) o.memoryLimit = parseSize(mem);
  const tasks = env.TSVISOR_TESTONLY_MAX_TASKS;
  if (tasks) o.maxTasks = Number(tasks);
  const files = env.TSVISOR_TESTONLY_MAX_FILES;
  if (files) o.maxFiles = Number(files);
  for (const [k, v] of Object.entries(o)) if (!Number.isFinite(v as number)) delete o[k as keyof LimitsOptions];
  return o;
}
