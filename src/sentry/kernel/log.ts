// Log: the Sentry's debug and warning log (--debug, --debug-log), and the
// strace sink (--strace). Writes are synchronous so lines survive a crash.

import { writeSync } from 'node:fs';

export class Log {
  debugEnabled: boolean;
  straceEnabled: boolean;
  private readonly fd: number;
  private readonly once = new Set<string>();

  constructor(fd: number, debug: boolean, strace: boolean) {
    this.fd = fd;
    this.debugEnabled = debug;
    this.straceEnabled = strace;
  }

  private write(level: string, msg: string): void {
    const ts = new Date().toISOString().slice(11, 23);
    try {
      writeSync(this.fd, `${level}${ts} ${msg}\n`);
    } catch {
      // The log must never take the Sentry down.
    }
  }

  debug(msg: string): void {
    if (this.debugEnabled) this.write('D', msg);
  }

  info(msg: string): void {
    if (this.debugEnabled) this.write('I', msg);
  }

  warning(msg: string): void {
    this.write('W', msg);
  }

  /** warnOnce logs msg the first time key is seen (unimplemented syscalls, ioctls...). */
  warnOnce(key: string, msg: string): void {
    if (this.once.has(key)) return;
    this.once.add(key);
    if (this.debugEnabled) this.write('W', msg);
  }

  strace(line: string): void {
    if (this.straceEnabled) this.write('I', line);
  }
}
