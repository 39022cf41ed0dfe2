// Host signals that reach a sandbox process, turned into guest signals.
// runsc relays the signals its caller sends it (kill, docker stop) to the
// sandbox process, which sends them on to the guest's init. When the guest's
// terminal is a host terminal that this process shares with its caller, the
// host line discipline also sends ^C (SIGINT), ^\ (SIGQUIT), ^Z (SIGTSTP) and
// window-size changes (SIGWINCH) here: those are for the terminal's
// foreground process group in the sandbox, as the guest set it.

import * as os from 'node:os';
import { fstatSync } from 'node:fs';
import { isatty } from 'node:tty';
import type { Kernel } from '../../sentry/kernel/kernel.js';
import { sendToGroup, userInfo } from '../../sentry/kernel/signals.js';
import { ttyState } from '../../sentry/fsimpl/host/tty.js';

/** Signals runsc relays from its caller, for the guest's init. */
export const RELAYED: NodeJS.Signals[] = ['SIGTERM', 'SIGINT', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2'];
/** Signals a host terminal sends its foreground process group. */
export const TTY_SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGQUIT', 'SIGTSTP', 'SIGWINCH'];
const SI_KERNEL = 0x80;

/** hostTtyKey returns the key of fd's host terminal for ttyState (its rdev), or null. */
export function hostTtyKey(fd: number): string | null {
  if (fd < 0 || !isatty(fd)) return null;
  try {
    return String(fstatSync(fd).rdev);
  } catch {
    return null;
  }
}

/** forwardHostSignals installs the listeners: relayed signals go to init,
 *  terminal signals (when fgTty names the guest's terminal) to its
 *  foreground group. Returns the function that removes them. tty lists the
 *  terminal signals to take (SIGTSTP only where this process leads the
 *  terminal's session: elsewhere ^Z stops the whole sandbox, for the
 *  caller's shell). */
export function forwardHostSignals(k: Kernel, fgTty: string | null, tty: NodeJS.Signals[] = TTY_SIGNALS): () => void {
  const fromTty = fgTty === null ? [] : tty;
  const all = [...new Set([...RELAYED, ...fromTty])];
  const listeners = all.map((s) => {
    const n = os.constants.signals[s];
    const f = (): void => {
      const init = k.init;
      if (fromTty.includes(s)) {
        // Typed on the guest's terminal: for its foreground process group.
        const pg = ttyState(fgTty!).fgPgid || init?.pgid;
        for (const tg of k.threadGroups.values()) {
          if (tg.pgid === pg && !tg.exiting) sendToGroup(tg, n, userInfo(n, 0, 0, SI_KERNEL));
        }
        return;
      }
      if (init && !init.exiting) sendToGroup(init, n, userInfo(n, 0, 0));
    };
    process.on(s, f);
    return [s, f] as const;
  });
  return () => {
    for (const [s, f] of listeners) process.off(s, f);
  };
}
