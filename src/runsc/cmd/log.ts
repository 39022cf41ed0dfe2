// The runtime's own log (--log, --log-format): runc writes one line per
// message, JSON `{"level":"error","msg":"...","time":"..."}` with
// --log-format json. The containerd shim reports the msg of the last error
// line when a command fails, so only whole JSON lines are ever appended.

import * as fs from 'node:fs';
import type { Config } from '../config/config.js';

function append(conf: Config, level: 'error' | 'warning' | 'debug', msg: string): void {
  if (!conf.log) return;
  const time = new Date().toISOString();
  const line = conf.logFormat === 'json'
    ? JSON.stringify({ level, msg, time })
    : `time="${time}" level=${level} msg=${JSON.stringify(msg)}`;
  try {
    fs.appendFileSync(conf.log, line + '\n');
  } catch {
    // An unwritable log must not hide the error itself (it goes to stderr too).
  }
}

/** logError records a failed command: in --log, and on stderr. */
export function logError(conf: Config, msg: string): void {
  append(conf, 'error', msg);
  process.stderr.write(`runsc: ${msg}\n`);
}

/** logWarning records a warning (hooks that failed after start...). */
export function logWarning(conf: Config, msg: string): void {
  append(conf, 'warning', msg);
  if (!conf.log) process.stderr.write(`runsc: warning: ${msg}\n`);
}

/** logDebug records a debug line with --debug. */
export function logDebug(conf: Config, msg: string): void {
  if (conf.debug) append(conf, 'debug', msg);
}
