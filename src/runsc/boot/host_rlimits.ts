// readHostRlimits reads the resource limits runsc itself runs with, so the
// sandbox's first process inherits them as a native child would (`ulimit -n`
// inside matches outside). /proc/self/limits lists them in RLIMIT_* order.
// Kept apart from limits.ts (which fills in the Sentry's defaults): runsc do
// reads them in the CLI, whose bundle must not load the kernel.

import { readFileSync } from 'node:fs';

/** HostRlimits are [soft, hard] per RLIMIT_* index (Infinity: unlimited);
 *  null for a row that could not be read. */
export type HostRlimits = ([number, number] | null)[];

export function readHostRlimits(): HostRlimits {
  let text: string;
  try {
    text = readFileSync('/proc/self/limits', 'utf8');
  } catch {
    return [];
  }
  const rows = text.split('\n').slice(1).filter((l) => l.trim());
  return rows.map((row) => {
    const m = /^Max .+?\s{2,}(\S+)\s+(\S+)/.exec(row);
    if (!m) return null;
    const val = (s: string) => (s === 'unlimited' ? Infinity : Number(s));
    const soft = val(m[1]);
    const hard = val(m[2]);
    return Number.isNaN(soft) || Number.isNaN(hard) ? null : [soft, hard];
  });
}
