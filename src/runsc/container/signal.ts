// Signal arguments of `runsc kill`: a number, or a name with or without SIG
// (TERM, SIGTERM, sigterm), or RTMIN+N / RTMAX-N.

import { SIGNAL_NAMES, SIGRTMAX, SIGRTMIN } from '../../abi/linux/signal.js';
import { RuntimeError } from './state.js';

export function parseSignal(s: string): number {
  if (/^\d+$/.test(s)) {
    const n = Number(s);
    if (n < 1 || n > SIGRTMAX) throw new RuntimeError(`invalid signal "${s}"`);
    return n;
  }
  let name = s.toUpperCase();
  if (!name.startsWith('SIG')) name = `SIG${name}`;
  const i = SIGNAL_NAMES.indexOf(name);
  if (i > 0) return i;
  // Aliases Linux and Go's signal tables know.
  const alias: Record<string, number> = { SIGIOT: 6, SIGPOLL: 29, SIGCLD: 17, SIGUNUSED: 31 };
  if (alias[name]) return alias[name];
  const rt = /^SIGRT(MIN|MAX)([+-]\d+)?$/.exec(name);
  if (rt) {
    const n = (rt[1] === 'MIN' ? SIGRTMIN : SIGRTMAX) + Number(rt[2] ?? 0);
    if (n >= SIGRTMIN && n <= SIGRTMAX) return n;
  }
  throw new RuntimeError(`unknown signal "${s}"`);
}
