// runsc runs ./bin/runsc (or TSV_RUNSC_BIN) for the network tests and
// resolves with its exit status, signal and output.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const RUNSC = process.env.TSV_RUNSC_BIN ?? path.join(REPO, 'bin', 'runsc');

/** run runs runsc with args; a run longer than timeout ms is killed. */
export function run(args, timeout = 60000) {
  return new Promise((resolve) => {
    const p = spawn(RUNSC, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stdout.on('data', (d) => (out += d));
    p.stderr.on('data', (d) => (err += d));
    const timer = setTimeout(() => p.kill('SIGKILL'), timeout);
    p.on('close', (code, sig) => {
      clearTimeout(timer);
      resolve({ code: code ?? 128, sig, out, err });
    });
  });
}
