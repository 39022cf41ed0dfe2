#!/usr/bin/env node
// Start-up cost of a container: `runsc run` of a busybox "echo hello" bundle,
// and the create/start/wait/delete sequence containerd drives, with our
// ./bin/runsc and with gVisor's /usr/bin/runsc (ptrace platform, no network).
// Not part of `npm test`:
//
//   node test/e2e/bench.mjs [N]

import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const N = Number(process.argv[2] ?? 10);
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tsv-bench-'));
const bundle = path.join(tmp, 'bundle');
fs.mkdirSync(path.join(bundle, 'rootfs', 'bin'), { recursive: true });
fs.copyFileSync('/bin/busybox', path.join(bundle, 'rootfs', 'bin', 'busybox'));
fs.chmodSync(path.join(bundle, 'rootfs', 'bin', 'busybox'), 0o755);
fs.symlinkSync('busybox', path.join(bundle, 'rootfs', 'bin', 'echo'));
const ours = [path.join(REPO, 'bin', 'runsc')];
const gvisor = fs.existsSync('/usr/bin/runsc') ? ['/usr/bin/runsc', '--platform=ptrace', '--network=none'] : null;
spawnSync(ours[0], ['spec', '--bundle', bundle]);
const spec = JSON.parse(fs.readFileSync(path.join(bundle, 'config.json'), 'utf8'));
spec.process.terminal = false;
spec.process.args = ['echo', 'hello'];
fs.writeFileSync(path.join(bundle, 'config.json'), JSON.stringify(spec));

let seq = 0;
function time(runsc, root, steps) {
  const id = `b${seq++}`;
  const t0 = performance.now();
  for (const s of steps) {
    const args = s.map((a) => (a === 'ID' ? id : a));
    // A file, not a pipe, for stderr: create hands its stdio to the container.
    const err = fs.openSync(path.join(tmp, 'stderr'), 'w+');
    const r = spawnSync(runsc[0], [...runsc.slice(1), '--root', root, ...args], { cwd: bundle, stdio: ['ignore', 'ignore', err] });
    fs.closeSync(err);
    if (r.status !== 0 && args[0] !== 'wait') throw new Error(`${runsc[0]} ${args.join(' ')}: ${fs.readFileSync(path.join(tmp, 'stderr'), 'utf8')}`);
  }
  return performance.now() - t0;
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

const scenarios = {
  'run (foreground)': [['run', '--bundle', bundle, 'ID']],
  'create+start+wait+delete': [['create', '--bundle', bundle, 'ID'], ['start', 'ID'], ['wait', 'ID'], ['delete', 'ID']],
};
for (const [name, steps] of Object.entries(scenarios)) {
  for (const [label, runsc] of [['tsvisor', ours], ['gVisor', gvisor]]) {
    if (!runsc) continue;
    const root = path.join(tmp, `root-${label}`);
    time(runsc, root, steps); // warm the page cache
    const xs = Array.from({ length: N }, () => time(runsc, root, steps));
    console.log(`${name.padEnd(26)} ${label.padEnd(8)} median ${median(xs).toFixed(0)} ms  (min ${Math.min(...xs).toFixed(0)})`);
  }
}
fs.rmSync(tmp, { recursive: true, force: true });
