// podman driving ./bin/runsc as its OCI runtime (through conmon), with its
// own storage under /var/tmp/tsv-podman so the host's podman state is left
// alone. Opt-in: it needs root and podman (apt-get install podman); the
// busybox image is made locally (tools/docker/mkimage.mjs) and imported with
// `podman import`, no registry. Without podman every test is skipped, loudly.
//
//   node --test test/e2e/podman.test.mjs

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const REPO = path.resolve(HERE, '../..');
const RUNSC = path.join(REPO, 'bin/runsc');
const WORK = process.env.TSV_PODMAN_WORK ?? '/var/tmp/tsv-podman';
const IMAGE = 'localhost/tsv-busybox:latest';
// No systemd on these machines: cgroupfs and a file event log; no CNI/netavark network.
const GLOBAL = ['--root', path.join(WORK, 'storage'), '--runroot', '/run/tsv-podman', '--cgroup-manager=cgroupfs',
  '--events-backend=file', '--runtime', RUNSC];

function sh(cmd, args, { input, timeout = 90000 } = {}) {
  const r = spawnSync(cmd, args, { input, timeout, encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '', error: r.error };
}
const podman = (args, o) => sh('podman', [...GLOBAL, ...args], o);

/** why is the reason to skip, or '' when podman with our runtime is usable. */
function why() {
  if (process.getuid() !== 0) return 'needs root';
  if (spawnSync('podman', ['--version']).status !== 0) return 'podman is not installed (apt-get install podman)';
  if (spawnSync('python3', ['-c', '1']).status !== 0) return 'no python3 (pty driver)';
  if (podman(['image', 'exists', IMAGE]).code !== 0) {
    const img = path.join(WORK, 'img');
    if (!fs.existsSync(path.join(img, 'rootfs.tar'))) {
      const r = sh(process.execPath, [path.join(REPO, 'tools/docker/mkimage.mjs'), img]);
      if (r.code !== 0) return `building the image failed: ${r.stderr.trim().split('\n').pop()}`;
    }
    const r = podman(['import', path.join(img, 'rootfs.tar'), IMAGE]);
    if (r.code !== 0) return `podman import failed: ${r.stderr.trim().split('\n').pop()}`;
  }
  return '';
}
const reason = why();
const skip = reason ? `SKIP (not a pass): ${reason}` : false;
if (skip) process.stderr.write(`\n*** podman.test.mjs: ${skip} ***\n\n`);

const names = [];
const uniq = (p) => {
  const n = `tsv-${p}-${process.pid}-${names.length}`;
  names.push(n);
  return n;
};
after(() => {
  if (names.length && !skip) podman(['rm', '-f', '-t', '0', ...names]);
});

const run = (opts, cmd, o) => podman(['run', '--rm', '--network=none', ...opts, IMAGE, ...cmd], o);

/** pty runs argv in a pseudo-terminal driven by steps (see pty_drive.py). */
function pty(argv, steps) {
  const r = sh('python3', [path.join(HERE, 'pty_drive.py'), ...argv, '--', ...steps], { timeout: 90000 });
  const m = /\nEXIT (\S+)\s*$/.exec(r.stdout);
  return { out: r.stdout, exit: m ? m[1] : 'none' };
}

test('podman run: output, exit codes, stdin, environment, cwd, user', { skip }, () => {
  const hi = run([], ['/bin/busybox', 'echo', 'hi']);
  assert.equal(hi.code, 0, hi.stderr);
  assert.equal(hi.stdout, 'hi\n');
  assert.equal(run([], ['sh', '-c', 'exit 42']).code, 42);
  // A container's init ignores signals it did not handle, even SIGKILL, from inside (Linux's SIGNAL_UNKILLABLE).
  assert.equal(run([], ['sh', '-c', 'kill -9 $$; exit 3']).code, 3);
  assert.equal(run(['-i'], ['cat'], { input: 'piped\ninput\n' }).stdout, 'piped\ninput\n');
  assert.equal(run(['-e', 'FOO=bar'], ['sh', '-c', 'echo $FOO']).stdout, 'bar\n');
  assert.equal(run(['-w', '/tmp'], ['pwd']).stdout, '/tmp\n');
  assert.equal(run(['--user', '1000:1000'], ['id', '-u']).stdout, '1000\n');
});

test('podman run -it: an interactive shell on /dev/pts/0, exit status passed on', { skip }, () => {
  const r = pty(['podman', ...GLOBAL, 'run', '--rm', '-it', '--network=none', IMAGE, '/bin/sh'],
    ['s:2', 'w:tty; echo $((6*7))', 'w:exit 5', 's:2']);
  assert.match(r.out, /\/dev\/pts\/0/, r.out);
  assert.match(r.out, /42/, r.out);
  assert.equal(r.exit, '5', r.out);
});

test('podman exec, exec -it, kill -s, stop (TERM, then KILL) and rm -f', { skip }, () => {
  const name = uniq('life');
  const script = 'trap "echo got-usr1" USR1; trap "echo term; exit 3" TERM; while true; do sleep 0.2; done';
  const d = podman(['run', '-d', '--name', name, '--network=none', IMAGE, 'sh', '-c', script]);
  assert.equal(d.code, 0, d.stderr);
  const e = podman(['exec', name, 'sh', '-c', 'echo in-exec; exit 4']);
  assert.equal(e.stdout, 'in-exec\n');
  assert.equal(e.code, 4);
  const it = pty(['podman', ...GLOBAL, 'exec', '-it', name, '/bin/sh'], ['s:2', 'w:tty', 'w:exit 6', 's:1']);
  assert.match(it.out, /\/dev\/pts\/\d+/, it.out);
  assert.equal(it.exit, '6', it.out);
  assert.equal(podman(['kill', '-s', 'USR1', name]).code, 0);
  assert.equal(podman(['stop', '-t', '10', name]).code, 0);
  assert.equal(podman(['inspect', name, '--format', '{{.State.ExitCode}}']).stdout.trim(), '3');
  assert.match(podman(['logs', name]).stdout, /got-usr1\nterm\n/);
  // A process that ignores SIGTERM is killed after the timeout.
  const stubborn = uniq('stubborn');
  assert.equal(podman(['run', '-d', '--name', stubborn, '--network=none', IMAGE, 'sh', '-c', 'trap "" TERM; while true; do sleep 0.2; done']).code, 0);
  assert.equal(podman(['stop', '-t', '1', stubborn]).code, 0);
  assert.equal(podman(['inspect', stubborn, '--format', '{{.State.ExitCode}}']).stdout.trim(), '137');
  assert.equal(podman(['rm', '-f', name, stubborn]).code, 0);
  assert.notEqual(podman(['container', 'exists', name]).code, 0);
});
