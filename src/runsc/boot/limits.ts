// hostRlimits reads the resource limits runsc itself runs with, so the
// sandbox's first process inherits them as a native child would (`ulimit -n`
// inside matches outside). /proc/self/limits lists them in RLIMIT_* order.

import { readFileSync } from 'node:fs';
import type { Rlimits } from '../../sentry/kernel/thread_group.js';
import { defaultRlimits } from '../../sentry/kernel/thread_group.js';

export function hostRlimits(): Rlimits {
  const limits = defaultRlimits();
  let text: string;
  try {
    text = readFileSync('/proc/self/limits', 'utf8');
  } catch {
    return limits;
  }
  const rows = text.split('\n').slice(1).filter((l) => l.trim());
  rows.forEach((row, i) => {
    if (i >= limits.length) return;
    const m = /^Max .+?\s{2,}(\S+)\s+(\S+)/.exec(row);
    if (!m) return;
    const val = (s: string) => (s === 'unlimited' ? Infinity : Number(s));
    const soft = val(m[1]);
    const hard = val(m[2]);
    if (!Number.isNaN(soft) && !Number.isNaN(hard)) limits[i] = [soft, hard];
  });
  return limits;
}
