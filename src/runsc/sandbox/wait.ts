// Waiting for a sandbox process runsc started in the foreground (`runsc do`,
// `runsc run`), relaying the signals runsc receives to it.

import { isatty } from 'node:tty';
import { native } from '../../platform/ptrace/native.js';

const WNOHANG = 1;

/** RELAYED are the signals runsc passes on to the sandbox process. Terminal
 *  signals (SIGINT, SIGQUIT) reach it from the terminal directly when there
 *  is one: relaying them too would deliver them twice. */
function relayed(): NodeJS.Signals[] {
  const s: NodeJS.Signals[] = ['SIGTERM', 'SIGHUP', 'SIGUSR1', 'SIGUSR2'];
  // isatty, not process.stdin: that would make Node open (and set O_NONBLOCK on) the guest's stdin.
  if (!isatty(0)) s.push('SIGINT', 'SIGQUIT');
  return s;
}

/** waitFor relays signals to pid (a child) until it exits, and resolves with its wait status. */
export function waitFor(pid: number): Promise<number> {
  return new Promise((resolve) => {
    const st = new Int32Array(1);
    const sigs = relayed();
    // With a terminal, ^C and ^\ reach the sandbox from it directly; runsc
    // must outlive them (the guest may catch them) and wait, as a shell does.
    const fromTty: NodeJS.Signals[] = sigs.includes('SIGINT') ? [] : ['SIGINT', 'SIGQUIT'];
    const ignore = (): void => {};
    const relay = (s: NodeJS.Signals): void => {
      try {
        process.kill(pid, s);
      } catch {
        // exiting
      }
    };
    const check = (): void => {
      const r = native.waitpid(pid, WNOHANG, st);
      if (r === 0) return;
      clearInterval(keepAlive);
      process.off('SIGCHLD', check);
      for (const s of sigs) process.off(s, relay);
      for (const s of fromTty) process.off(s, ignore);
      resolve(r < 0 ? 1 << 8 : st[0]);
    };
    // Signal listeners do not keep Node's loop alive; this does, and doubles
    // as a slow poll should a SIGCHLD be missed.
    const keepAlive = setInterval(check, 1000);
    for (const s of sigs) process.on(s, relay);
    for (const s of fromTty) process.on(s, ignore);
    process.on('SIGCHLD', check);
    check();
  });
}

/** exitCode turns a wait status into a shell-style exit code. */
export function exitCode(status: number): number {
  const sig = status & 0x7f;
  return sig ? 128 + sig : (status >> 8) & 0xff;
}
