// Per-sandbox values /proc shows that come from the container's spec rather
// than from the Sentry's own state: the user namespace's id maps
// (linux.uidMappings / gidMappings) and process.oomScoreAdj, with the
// oom_score_adj each process set since.

import * as linuxerr from '../../../abi/linux/errno.js';
import type { Kernel } from '../../kernel/kernel.js';
import type { ThreadGroup } from '../../kernel/thread_group.js';

/** IDMapping is one line of uid_map or gid_map. */
export interface IDMapping {
  containerID: number;
  hostID: number;
  size: number;
}

export interface ProcDefaults {
  uidMap?: IDMapping[];
  gidMap?: IDMapping[];
  oomScoreAdj?: number;
}

const defaults = new WeakMap<Kernel, ProcDefaults>();
const oomAdj = new WeakMap<ThreadGroup, number>();

/** setProcDefaults records what k's /proc shows (set once, at boot). */
export function setProcDefaults(k: Kernel, d: ProcDefaults): void {
  defaults.set(k, d);
}

/** The identity map of the initial user namespace. */
const IDENTITY: IDMapping[] = [{ containerID: 0, hostID: 0, size: 4294967295 }];

/** idMapText renders uid_map (or gid_map) as Linux does: three right-aligned columns. */
export function idMapText(k: Kernel, which: 'uid' | 'gid'): string {
  const d = defaults.get(k);
  const m = (which === 'uid' ? d?.uidMap : d?.gidMap) ?? IDENTITY;
  return m.map((e) => `${String(e.containerID).padStart(10)} ${String(e.hostID).padStart(10)} ${String(e.size).padStart(10)}\n`).join('');
}

/** oomScoreAdj is tg's oom_score_adj: its own once written, else the nearest
 *  ancestor's (the value is inherited at fork), else the container's. */
export function oomScoreAdj(tg: ThreadGroup): number {
  for (let g: ThreadGroup | null = tg; g; g = g.parent) {
    const v = oomAdj.get(g);
    if (v !== undefined) return v;
  }
  return defaults.get(tg.leader.kernel)?.oomScoreAdj ?? 0;
}

/** writeOomScoreAdj parses a write to oom_score_adj: an integer in
 *  [-1000, 1000] (EINVAL otherwise). Recorded only: the sandbox's memory is
 *  limited by its cgroup, not by a per-process OOM killer. */
export function writeOomScoreAdj(tg: ThreadGroup, src: Uint8Array): number {
  const s = Buffer.from(src).toString('latin1').trim();
  if (!/^[+-]?\d+$/.test(s)) throw linuxerr.EINVAL;
  const v = Number(s);
  if (v < -1000 || v > 1000) throw linuxerr.EINVAL;
  oomAdj.set(tg, v);
  return src.length;
}
