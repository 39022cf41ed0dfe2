// Confinement of the sandbox's host processes (issue 7): the Sentry, the
// Gofers and the stubs each run with a seccomp filter and no_new_privs, in
// namespaces that are not the host's; the Sentry's root is empty and its
// filter refuses an open(2) of a host path; an unprivileged user gets a
// working sandbox with --rootless, as root inside.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const RUNSC = path.join(REPO, 'bin/runsc');
const NS = ['mnt', 'user', 'pid', 'net', 'ipc', 'uts'];

const status = (pid) => {
  try {
    return fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return ''; // gone
  }
};
const field = (pid, name) => new RegExp(`^${name}:\\s*(.*)$`, 'm').exec(status(pid))?.[1];
const children = (pid) => {
  const out = [];
  for (const t of fs.readdirSync(`/proc/${pid}/task`)) {
    let c = '';
    try {
      c = fs.readFileSync(`/proc/${pid}/task/${t}/children`, 'utf8').trim();
    } catch {
      // the thread has gone
    }
    if (c) out.push(...c.split(/\s+/).map(Number));
  }
  return out;
};
/** cmdline: a child that has already gone (runsc's short-lived helpers, ip or iptables) has none. */
const cmdline = (pid) => {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
  } catch {
    return [];
  }
};
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** confined asserts what every confined process shows. */
function assertConfined(pid, what) {
  assert.equal(field(pid, 'Seccomp'), '2', `${what}: seccomp filter mode`);
  assert.equal(field(pid, 'NoNewPrivs'), '1', `${what}: no_new_privs`);
  for (const ns of NS) {
    assert.notEqual(fs.readlinkSync(`/proc/${pid}/ns/${ns}`), fs.readlinkSync(`/proc/self/ns/${ns}`), `${what}: ${ns} namespace`);
  }
}

test('Sentry, Gofer and stubs: seccomp, no_new_privs, own namespaces, no host capabilities', async () => {
  const cli = spawn(RUNSC, ['do', '/bin/sleep', '30'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  cli.stderr.on('data', (d) => (stderr += d));
  try {
    let sentry = 0;
    let gofers = [];
    let stubs = [];
    for (let i = 0; i < 300 && stubs.length < 2; i++) {
      await sleep(50);
      const kids = children(cli.pid);
      sentry = kids.find((p) => cmdline(p).includes('sandbox')) ?? 0;
      gofers = kids.filter((p) => cmdline(p).some((a) => a.endsWith('gofer.mjs') || a === 'gofer'));
      stubs = sentry ? children(sentry).filter((p) => field(p, 'Name') === 'stub') : [];
    }
    assert.ok(sentry, `no sandbox process under runsc (${stderr})`);
    assert.ok(gofers.length >= 1, 'a Gofer');
    assert.ok(stubs.length >= 2, 'the master stub and the guest\'s');
    assertConfined(sentry, 'Sentry');
    for (const g of gofers) assertConfined(g, 'Gofer');
    for (const s of stubs) assertConfined(s, 'stub');
    // The Sentry is the host's nobody, holding CAP_SYS_PTRACE and CAP_SYS_NICE alone, in its own user namespace.
    assert.match(field(sentry, 'Uid'), /^65534\s/);
    assert.equal(field(sentry, 'CapEff'), '0000000000880000');
    // Its root is an empty directory with its own /proc in it.
    assert.deepEqual(fs.readdirSync(`/proc/${sentry}/root`), ['proc']);
    // The Gofer's root is the tree it serves: here the host's, read-only.
    assert.ok(fs.readdirSync(`/proc/${gofers[0]}/root`).includes('usr'));
  } finally {
    cli.kill('SIGTERM');
    await new Promise((r) => cli.on('exit', r));
  }
});

test('the Sentry\'s filter refuses an open(2) of a host path after start-up', () => {
  const r = spawnSync(RUNSC, ['do', '/bin/echo', 'ok'], {
    encoding: 'utf8', env: { ...process.env, TSVISOR_TESTONLY_SENTRY_OPEN: '/etc/passwd' },
  });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, 'ok\n');
  assert.match(r.stderr, /TESTONLY sentry open\(\/etc\/passwd\): EACCES/);
});

test('--no-seccomp leaves the filter out (diagnosis only), and the empty root still hides host files', () => {
  const r = spawnSync(RUNSC, ['--no-seccomp', 'do', '/bin/echo', 'ok'], {
    encoding: 'utf8', env: { ...process.env, TSVISOR_TESTONLY_SENTRY_OPEN: '/etc/passwd' },
  });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /TESTONLY sentry open\(\/etc\/passwd\): ENOENT/);
});

test('runsc --rootless do, run by an unprivileged user, is root inside', () => {
  // The repository must be readable by that user (nobody).
  const probe = spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', 'test', '-r', path.join(REPO, 'dist/runsc.mjs')]);
  assert.equal(probe.status, 0, 'the repository is not readable by nobody: cannot run the rootless check');
  const r = spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', RUNSC, '--rootless', 'do', '/bin/sh', '-c', 'id -u; echo x > /tmp/f; cat /tmp/f'],
    { encoding: 'utf8', cwd: '/' });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, '0\nx\n');
});

test('an OCI container\'s sandbox process and its stubs are confined too', async () => {
  const tmp = fs.mkdtempSync('/tmp/tsv-confine-');
  try {
    const rootfs = path.join(tmp, 'bundle/rootfs');
    fs.mkdirSync(path.join(rootfs, 'bin'), { recursive: true });
    fs.copyFileSync('/bin/busybox', path.join(rootfs, 'bin/busybox'));
    fs.chmodSync(path.join(rootfs, 'bin/busybox'), 0o755);
    for (const n of ['sh', 'sleep']) fs.symlinkSync('busybox', path.join(rootfs, 'bin', n));
    const bundle = path.join(tmp, 'bundle');
    assert.equal(spawnSync(RUNSC, ['spec', '--bundle', bundle]).status, 0);
    const cfg = JSON.parse(fs.readFileSync(path.join(bundle, 'config.json'), 'utf8'));
    cfg.process.terminal = false;
    cfg.process.args = ['sleep', '30'];
    fs.writeFileSync(path.join(bundle, 'config.json'), JSON.stringify(cfg));
    const root = path.join(tmp, 'state');
    const rs = (...a) => spawnSync(RUNSC, ['--root', root, ...a], { encoding: 'utf8' });
    // stdio ignored: the detached container keeps whatever it is given.
    const r = spawnSync(RUNSC, ['--root', root, 'run', '--detach', '--bundle', bundle, 'c1'], { stdio: 'ignore' });
    assert.equal(r.status, 0);
    try {
      const sandbox = JSON.parse(rs('state', 'c1').stdout).pid;
      assertConfined(sandbox, 'container sandbox');
      assert.equal(field(sandbox, 'CapEff'), '0000000000880000');
      assert.deepEqual(fs.readdirSync(`/proc/${sandbox}/root`), ['proc']);
      const stubs = children(sandbox).filter((p) => field(p, 'Name') === 'stub');
      assert.ok(stubs.length >= 2);
      for (const s of stubs) assertConfined(s, 'container stub');
      // runsc ps names the stubs by their host pids.
      assert.deepEqual(JSON.parse(rs('ps', '--format', 'json', 'c1').stdout).every((p) => stubs.includes(p)), true);
    } finally {
      assert.equal(rs('delete', '--force', 'c1').status, 0);
    }
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
});
