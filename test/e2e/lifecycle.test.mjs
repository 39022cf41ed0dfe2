// End-to-end tests of runsc as an OCI runtime: bundles with a busybox rootfs
// driven through ./bin/runsc create/start/run/state/kill/wait/exec/ps/list/
// pause/resume/update/delete as containerd and Docker drive runc. Needs a
// build (npx tsc -p .) and root (ptrace of the stubs, cgroups).
//
//   node --test test/e2e/lifecycle.test.mjs

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const RUNSC = path.join(REPO, 'bin', 'runsc');
const BUSYBOX = ['/bin/busybox', '/usr/bin/busybox'].find((p) => fs.existsSync(p));
const skip = !BUSYBOX ? 'busybox is not installed' : process.getuid() !== 0 ? 'needs root' : false;

const tmp = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'tsv-e2e-')));
const ROOT = path.join(tmp, 'state');
let seq = 0;

after(() => {
  // Leave nothing running: force-delete whatever a failed test left.
  for (const id of fs.existsSync(ROOT) ? fs.readdirSync(ROOT) : []) {
    if (!id.startsWith('.')) spawnSync(RUNSC, ['--root', ROOT, 'delete', '--force', id], { timeout: 20000 });
  }
  fs.rmSync(tmp, { recursive: true, force: true });
});

/** rs runs ./bin/runsc --root ROOT ARGS synchronously. Commands that leave a
 *  container running (create, run --detach) hand it their stdio, so their
 *  output goes through files: a pipe would stay open as long as the container. */
function rs(args, { input = '', timeout = 60000, global = [], cwd = tmp } = {}) {
  const leaves = args.includes('create') || args.includes('--detach') || args.includes('-d');
  if (!leaves) {
    const r = spawnSync(RUNSC, ['--root', ROOT, ...global, ...args], { input, timeout, cwd, encoding: 'utf8' });
    return { code: r.status, signal: r.signal, stdout: r.stdout ?? '', stderr: r.stderr ?? '', error: r.error };
  }
  const out = path.join(tmp, `out-${seq++}`);
  const fds = [fs.openSync('/dev/null', 'r'), fs.openSync(`${out}.1`, 'w'), fs.openSync(`${out}.2`, 'w')];
  const r = spawnSync(RUNSC, ['--root', ROOT, ...global, ...args], { stdio: fds, timeout, cwd });
  for (const f of fds) fs.closeSync(f);
  const read = (n) => fs.readFileSync(`${out}.${n}`, 'utf8');
  return { code: r.status, signal: r.signal, stdout: read(1), stderr: read(2), error: r.error };
}

/** rsAsync is rs in the background (for concurrency tests); output goes through files. */
function rsAsync(args) {
  return new Promise((resolve) => {
    const out = path.join(tmp, `out-${seq++}`);
    const fds = [fs.openSync('/dev/null', 'r'), fs.openSync(`${out}.1`, 'w'), fs.openSync(`${out}.2`, 'w')];
    const c = spawn(RUNSC, ['--root', ROOT, ...args], { cwd: tmp, stdio: fds });
    for (const f of fds) fs.closeSync(f);
    c.on('exit', (code) => resolve({ code, stdout: fs.readFileSync(`${out}.1`, 'utf8'), stderr: fs.readFileSync(`${out}.2`, 'utf8') }));
  });
}

function ok(r, what) {
  assert.equal(r.code, 0, `${what}: exit ${r.code ?? r.signal}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  return r;
}

/** makeBundle builds a bundle whose config.json comes from `runsc spec`, edited by edit. */
function makeBundle(edit = () => {}) {
  const dir = path.join(tmp, `bundle${seq++}`);
  const bin = path.join(dir, 'rootfs', 'bin');
  fs.mkdirSync(bin, { recursive: true });
  fs.copyFileSync(BUSYBOX, path.join(bin, 'busybox'));
  fs.chmodSync(path.join(bin, 'busybox'), 0o755);
  for (const a of ['sh', 'echo', 'cat', 'sleep', 'ls', 'id', 'true', 'false', 'ps', 'kill', 'wc', 'pwd', 'hostname', 'env']) {
    fs.symlinkSync('busybox', path.join(bin, a));
  }
  ok(rs(['spec', '--bundle', dir]), 'spec');
  const spec = JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8'));
  spec.process.terminal = false;
  edit(spec);
  fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(spec, null, 2));
  return dir;
}

const newId = () => `e2e-${process.pid}-${seq++}`;

function state(id) {
  const r = ok(rs(['state', id]), `state ${id}`);
  return JSON.parse(r.stdout);
}

/** tree returns pid and all its live (non-zombie) descendants. */
function tree(pid) {
  const out = [];
  const queue = [pid];
  while (queue.length) {
    const p = queue.shift();
    let st;
    try {
      st = fs.readFileSync(`/proc/${p}/stat`, 'utf8');
    } catch {
      continue;
    }
    if (st.slice(st.lastIndexOf(')') + 2)[0] === 'Z') continue;
    out.push(p);
    for (const t of fs.readdirSync(`/proc/${p}/task`)) {
      try {
        queue.push(...fs.readFileSync(`/proc/${p}/task/${t}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number));
      } catch { /* gone */ }
    }
  }
  return out;
}

const alive = (pids) => pids.filter((p) => tree(p).includes(p));

async function until(cond, ms = 10000) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (cond()) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return cond();
}

test('spec writes a default bundle config', { skip }, () => {
  const dir = path.join(tmp, 'specdir');
  fs.mkdirSync(dir);
  ok(rs(['spec', '--bundle', dir]), 'spec');
  const spec = JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8'));
  assert.deepEqual(spec.process.args, ['sh']);
  assert.equal(spec.process.terminal, true);
  assert.equal(spec.root.path, 'rootfs');
  assert.ok(spec.mounts.some((m) => m.destination === '/proc' && m.type === 'proc'));
  const again = rs(['spec', '--bundle', dir]);
  assert.equal(again.code, 1, 'spec refuses to overwrite config.json');
});

test('lifecycle: create, state, start, kill, wait, delete', { skip }, async () => {
  const bundle = makeBundle((s) => { s.process.args = ['sh', '-c', 'sleep 30']; });
  const id = newId();
  const pidFile = path.join(tmp, `${id}.pid`);
  ok(rs(['create', '--bundle', bundle, '--pid-file', pidFile, id]), 'create');
  const pid = Number(fs.readFileSync(pidFile, 'utf8'));
  let s = state(id);
  assert.equal(s.status, 'created');
  assert.equal(s.pid, pid);
  assert.equal(s.id, id);
  assert.equal(s.bundle, bundle);
  assert.ok(tree(pid).includes(pid), 'the sandbox process runs');
  ok(rs(['start', id]), 'start');
  assert.equal(state(id).status, 'running');
  const second = rs(['start', id]);
  assert.equal(second.code, 1, 'a second start fails');
  const procs = tree(pid);
  ok(rs(['kill', id, 'TERM']), 'kill');
  const w = ok(rs(['wait', id]), 'wait');
  assert.deepEqual(JSON.parse(w.stdout), { id, exitStatus: 128 + 15 });
  s = state(id);
  assert.equal(s.status, 'stopped');
  ok(rs(['delete', id]), 'delete');
  assert.ok(!fs.existsSync(path.join(ROOT, id)), 'the state directory is gone');
  assert.ok(await until(() => alive(procs).length === 0), `leftover processes: ${alive(procs)}`);
  const again = rs(['delete', id]);
  assert.equal(again.code, 1, 'deleting an unknown id fails');
  ok(rs(['delete', '--force', id]), 'delete --force of an unknown id');
});

test('run prints and propagates the exit code', { skip }, () => {
  for (const [script, code] of [['echo hello; exit 3', 3], ['echo hello', 0], ['echo hello; kill -9 $$; exit 4', 4]]) {
    const bundle = makeBundle((s) => { s.process.args = ['sh', '-c', script]; });
    const r = rs(['run', '--bundle', bundle, newId()]);
    assert.equal(r.stdout, 'hello\n', r.stderr);
    assert.equal(r.code, code, `${script}: ${r.stderr}`);
  }
});

test('run: environment, working directory, user, hostname, stdin', { skip }, () => {
  const bundle = makeBundle((s) => {
    s.process.args = ['sh', '-c', 'echo $FOO; pwd; id -u; id -g; hostname; cat'];
    s.process.env.push('FOO=bar');
    s.process.cwd = '/work/dir';
    s.process.user = { uid: 1000, gid: 1001 };
    s.hostname = 'boxy';
  });
  const r = rs(['run', '--bundle', bundle, newId()], { input: 'from stdin\n' });
  assert.equal(r.stdout, 'bar\n/work/dir\n1000\n1001\nboxy\nfrom stdin\n', r.stderr);
  assert.equal(r.code, 0);
});

test('run: a missing program fails at create with a clear error', { skip }, () => {
  const bundle = makeBundle((s) => { s.process.args = ['nonexistent-program']; });
  const id = newId();
  const r = rs(['run', '--bundle', bundle, id]);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /executable file not found/);
  assert.ok(!fs.existsSync(path.join(ROOT, id)));
});

test('run in the foreground: other commands reach it, signals are passed on', { skip }, async () => {
  const bundle = makeBundle((s) => { s.process.args = ['sh', '-c', 'trap "echo got TERM; exit 5" TERM; sleep 30 & wait']; });
  const id = newId();
  const out = path.join(tmp, `${id}.out`);
  const fd = fs.openSync(out, 'w');
  const child = spawn(RUNSC, ['--root', ROOT, 'run', '--bundle', bundle, id], { stdio: ['ignore', fd, fd] });
  fs.closeSync(fd);
  const exited = new Promise((r) => child.on('exit', (code, sig) => r({ code, sig })));
  assert.ok(await until(() => rs(['state', id]).stdout.includes('"running"')), 'the container runs');
  // As with runc run, the container's process is a child of the run process.
  const ppid = Number(/^PPid:\s*(\d+)/m.exec(fs.readFileSync(`/proc/${state(id).pid}/status`, 'utf8'))[1]);
  assert.equal(ppid, child.pid, 'the sandbox process is a child of run');
  const e = rs(['exec', id, 'echo', 'exec works']);
  assert.equal(e.stdout, 'exec works\n', e.stderr);
  assert.equal(JSON.parse(ok(rs(['ps', '--format', 'json', id]), 'ps').stdout).length, 2);
  child.kill('SIGTERM');
  const r = await exited;
  assert.deepEqual(r, { code: 5, sig: null });
  assert.equal(fs.readFileSync(out, 'utf8'), 'got TERM\n');
  assert.ok(!fs.existsSync(path.join(ROOT, id)), 'run deletes the container after it exits');
});

test('kill of a created container', { skip }, () => {
  const bundle = makeBundle((s) => { s.process.args = ['sh', '-c', 'sleep 30']; });
  const id = newId();
  ok(rs(['create', '--bundle', bundle, id]), 'create');
  ok(rs(['kill', id, 'KILL']), 'kill');
  const w = ok(rs(['wait', id]), 'wait');
  assert.equal(JSON.parse(w.stdout).exitStatus, 137);
  assert.equal(state(id).status, 'stopped');
  const k = rs(['kill', id, '9']);
  assert.equal(k.code, 1, `kill of a stopped container fails: ${k.stderr}`);
  ok(rs(['delete', id]), 'delete');
});

test('delete --force of a running container; delete without it refuses', { skip }, async () => {
  const bundle = makeBundle((s) => { s.process.args = ['sh', '-c', 'sleep 30']; });
  const id = newId();
  const pidFile = path.join(tmp, `${id}.pid`);
  ok(rs(['create', '--bundle', bundle, '--pid-file', pidFile, id]), 'create');
  ok(rs(['start', id]), 'start');
  const procs = tree(Number(fs.readFileSync(pidFile, 'utf8')));
  const r = rs(['delete', id]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /not stopped/);
  ok(rs(['delete', '--force', id]), 'delete --force');
  assert.ok(!fs.existsSync(path.join(ROOT, id)));
  assert.ok(await until(() => alive(procs).length === 0), `leftover processes: ${alive(procs)}`);
});

test('list, ps, exec, pause and resume on a running container', { skip }, async () => {
  const bundle = makeBundle((s) => { s.process.args = ['sh', '-c', 'sleep 30']; });
  const id = newId();
  ok(rs(['run', '--detach', '--bundle', bundle, id]), 'run --detach');
  const quiet = ok(rs(['list', '--quiet']), 'list -q').stdout.split('\n');
  assert.ok(quiet.includes(id));
  const all = JSON.parse(ok(rs(['list', '--format', 'json']), 'list json').stdout);
  const mine = all.find((c) => c.id === id);
  assert.equal(mine.status, 'running');
  assert.match(ok(rs(['list']), 'list').stdout, new RegExp(`^ID\\s+PID\\s+STATUS[\\s\\S]*${id}\\s+\\d+\\s+running`, 'm'));

  const hostPids = JSON.parse(ok(rs(['ps', '--format', 'json', id]), 'ps json').stdout);
  assert.ok(Array.isArray(hostPids) && hostPids.length === 1);
  assert.ok(tree(hostPids[0]).includes(hostPids[0]), 'ps reports live host pids');
  assert.match(ok(rs(['ps', id]), 'ps').stdout, /^UID\s+PID\s+PPID[\s\S]*\n0\s+1\s+0\s.*sleep 30/m);

  const e = rs(['exec', id, 'sh', '-c', 'echo in $(pwd); exit 7']);
  assert.equal(e.stdout, 'in /\n');
  assert.equal(e.code, 7);
  const e2 = rs(['exec', '--env', 'X=y', '--cwd', '/bin', '--user', '1000:1000', id, 'sh', '-c', 'echo $X $(pwd) $(id -u)']);
  assert.equal(e2.stdout, 'y /bin 1000\n', e2.stderr);

  // --process, as containerd sends it, detached with a pid file.
  const proc = { user: { uid: 0, gid: 0 }, args: ['sh', '-c', 'sleep 20'], env: ['PATH=/bin'], cwd: '/' };
  const procFile = path.join(tmp, `${id}-process.json`);
  fs.writeFileSync(procFile, JSON.stringify(proc));
  const execPid = path.join(tmp, `${id}-exec.pid`);
  ok(rs(['exec', '--process', procFile, '--detach', '--pid-file', execPid, id]), 'exec --detach');
  const proxy = Number(fs.readFileSync(execPid, 'utf8'));
  assert.ok(tree(proxy).includes(proxy), 'the exec proxy runs');
  assert.equal(JSON.parse(ok(rs(['ps', '--format', 'json', id]), 'ps').stdout).length, 2);
  process.kill(proxy, 'SIGKILL');
  assert.ok(await until(() => JSON.parse(rs(['ps', '--format', 'json', id]).stdout).length === 1),
    'killing the proxy ends the exec\'d process');

  ok(rs(['pause', id]), 'pause');
  assert.equal(state(id).status, 'paused');
  assert.equal(rs(['exec', id, 'true']).code, 1, 'exec in a paused container fails');
  ok(rs(['resume', id]), 'resume');
  assert.equal(state(id).status, 'running');
  assert.equal(rs(['resume', id]).code, 1, 'resume of a running container fails');
  ok(rs(['exec', id, 'true']), 'exec after resume');

  const stats = JSON.parse(ok(rs(['events', '--stats', id]), 'events --stats').stdout);
  assert.equal(stats.type, 'stats');
  assert.equal(stats.id, id);
  ok(rs(['update', '--resources', '-', id], { input: '{"pids":{"limit":50}}' }), 'update');

  ok(rs(['delete', '--force', id]), 'delete --force');
});

test('pause stops a busy container and resume lets it go on', { skip }, async () => {
  // The counter goes to a volume, so that the host reads it while the container is paused.
  const vol = path.join(tmp, `count${seq++}`);
  fs.mkdirSync(vol);
  const bundle = makeBundle((s) => {
    s.process.args = ['sh', '-c', 'i=0; while true; do i=$((i+1)); echo $i > /v/n.tmp; mv /v/n.tmp /v/n; done'];
    s.mounts.push({ destination: '/v', type: 'bind', source: vol, options: ['rbind', 'rw'] });
  });
  const id = newId();
  ok(rs(['run', '--detach', '--bundle', bundle, id]), 'run');
  const count = () => {
    try {
      return Number(fs.readFileSync(path.join(vol, 'n'), 'utf8'));
    } catch {
      return 0;
    }
  };
  assert.ok(await until(() => count() > 0));
  ok(rs(['pause', id]), 'pause');
  const a = count();
  await new Promise((r) => setTimeout(r, 300));
  const b = count();
  assert.equal(a, b, 'no progress while paused');
  ok(rs(['resume', id]), 'resume');
  assert.ok(await until(() => count() > b), 'progress after resume');
  ok(rs(['delete', '--force', id]), 'delete');
});

test('mounts: bind mounts of directories and files, tmpfs, read-only root', { skip }, () => {
  const vol = path.join(tmp, 'vol');
  fs.mkdirSync(vol);
  fs.writeFileSync(path.join(vol, 'in.txt'), 'volume data\n');
  const hostFile = path.join(tmp, 'hosts');
  fs.writeFileSync(hostFile, '127.0.0.1 boxy\n');
  const bundle = makeBundle((s) => {
    s.process.args = ['sh', '-c',
      'cat /data/in.txt; cat /etc/hosts; echo x > /data/out.txt && echo wrote; echo y > /scratch/f && cat /scratch/f; ' +
      'echo z > /rootfile || echo ro-root; echo w > /ro/f || echo ro-vol'];
    s.root.readonly = true;
    s.mounts.push({ destination: '/data', type: 'bind', source: vol, options: ['rbind', 'rw'] });
    s.mounts.push({ destination: '/ro', type: 'bind', source: vol, options: ['rbind', 'ro'] });
    s.mounts.push({ destination: '/etc/hosts', type: 'bind', source: hostFile, options: ['rbind', 'ro'] });
    s.mounts.push({ destination: '/scratch', type: 'tmpfs', source: 'tmpfs', options: ['mode=1777'] });
  });
  const r = rs(['run', '--bundle', bundle, newId()]);
  assert.equal(r.stdout, 'volume data\n127.0.0.1 boxy\nwrote\ny\nro-root\nro-vol\n', r.stderr);
  assert.equal(fs.readFileSync(path.join(vol, 'out.txt'), 'utf8'), 'x\n', 'a rw bind mount writes through');
});

test('hooks run with the state on stdin', { skip }, () => {
  const out = path.join(tmp, 'hooks.log');
  const hook = (name) => ({ path: '/bin/sh', args: ['sh', '-c', `read s; echo "${name} $s" >> ${out}`] });
  const bundle = makeBundle((s) => {
    s.process.args = ['true'];
    s.hooks = { prestart: [hook('prestart')], createRuntime: [hook('createRuntime')], poststart: [hook('poststart')],
      poststop: [hook('poststop')] };
    s.annotations = { 'org.example': 'yes' };
  });
  const id = newId();
  ok(rs(['run', '--bundle', bundle, id]), 'run');
  const lines = fs.readFileSync(out, 'utf8').trim().split('\n');
  assert.deepEqual(lines.map((l) => l.split(' ')[0]), ['prestart', 'createRuntime', 'poststart', 'poststop']);
  const st = JSON.parse(lines[0].slice(lines[0].indexOf(' ') + 1));
  assert.equal(st.id, id);
  assert.equal(st.bundle, bundle);
  assert.equal(st.annotations['org.example'], 'yes');
  assert.equal(JSON.parse(lines[3].slice(lines[3].indexOf(' ') + 1)).status, 'stopped');

  const failing = makeBundle((s) => {
    s.process.args = ['true'];
    s.hooks = { createRuntime: [{ path: '/bin/false' }] };
  });
  const bad = newId();
  const r = rs(['create', '--bundle', failing, bad]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /createRuntime hook/);
  assert.ok(!fs.existsSync(path.join(ROOT, bad)));
});

test('terminal: the pty master goes to the console socket (create and exec)', { skip }, async () => {
  const { native } = await import(path.join(REPO, 'dist/platform/ptrace/native.js'));
  const sock = path.join(tmp, 'console.sock');
  const lfd = native.unixListen(sock, 4);
  assert.ok(lfd >= 0);
  /** receive accepts one console-socket connection and returns the fd it carries. */
  const receive = async () => {
    let conn = -11;
    assert.ok(await until(() => (conn = native.unixAccept(lfd)) >= 0, 30000), 'runsc connects to the console socket');
    const fds = new Int32Array(1);
    const data = new Uint8Array(64);
    assert.ok(await until(() => native.recvFds(conn, data, fds, 0x40) > 0), 'a message arrives');
    fs.closeSync(conn);
    assert.ok(fds[0] >= 0, 'with an fd');
    return fds[0];
  };
  const readUntil = async (fd, re) => {
    let text = '';
    const buf = Buffer.alloc(256);
    await until(() => {
      try {
        const n = fs.readSync(fd, buf);
        text += buf.toString('utf8', 0, n);
      } catch { /* EAGAIN, EIO once closed */ }
      return re.test(text);
    });
    return text;
  };
  const bundle = makeBundle((s) => {
    s.process.terminal = true;
    s.process.consoleSize = { height: 30, width: 100 };
    s.process.args = ['sh', '-c', '[ -t 0 ] && echo tty; stty size; read line; echo "read $line"; sleep 30'];
  });
  const id = newId();
  const created = rsAsync(['create', '--bundle', bundle, '--console-socket', sock, id]);
  const master = await receive();
  assert.equal((await created).code, 0);
  ok(rs(['start', id]), 'start');
  assert.match(await readUntil(master, /30 100/), /tty\r?\n30 100/);
  fs.writeSync(master, 'typed\n');
  assert.match(await readUntil(master, /read typed/), /read typed/);

  const execPid = path.join(tmp, `${id}-exec.pid`);
  const ex = rsAsync(['exec', '--tty', '--console-socket', sock, '--detach', '--pid-file', execPid, id,
    'sh', '-c', '[ -t 1 ] && echo exec-tty; exit 4']);
  const m2 = await receive();
  assert.equal((await ex).code, 0);
  assert.match(await readUntil(m2, /exec-tty/), /exec-tty/);
  const proxy = Number(fs.readFileSync(execPid, 'utf8'));
  assert.ok(proxy > 0);
  ok(rs(['delete', '--force', id]), 'delete');
  for (const f of [master, m2, lfd]) fs.closeSync(f);
});

test('errors: JSON log lines, bad specs, bad ids, unsupported commands', { skip }, () => {
  const log = path.join(tmp, 'log.json');
  const r = rs(['start', 'no-such-container'], { global: ['--log', log, '--log-format', 'json'] });
  assert.equal(r.code, 1);
  const last = JSON.parse(fs.readFileSync(log, 'utf8').trim().split('\n').pop());
  assert.equal(last.level, 'error');
  assert.match(last.msg, /does not exist/);
  assert.ok(!Number.isNaN(Date.parse(last.time)));

  const bundle = makeBundle((s) => { s.ociVersion = '2.0.0'; });
  const b = rs(['create', '--bundle', bundle, newId()], { global: ['--log', log, '--log-format', 'json'] });
  assert.equal(b.code, 1);
  assert.match(JSON.parse(fs.readFileSync(log, 'utf8').trim().split('\n').pop()).msg, /ociVersion/);
  const old = makeBundle((s) => { s.ociVersion = '1.1.0-rc.1'; s.process.args = ['true']; });
  ok(rs(['run', '--bundle', old, newId()]), '1.x versions are accepted');

  const noProc = makeBundle((s) => { delete s.process; });
  assert.match(rs(['create', '--bundle', noProc, newId()]).stderr, /process/);
  assert.match(rs(['create', '--bundle', old, 'bad/id']).stderr, /invalid container id/);
  const cp = rs(['checkpoint', '--image-path', '/tmp/x', 'foo']);
  assert.equal(cp.code, 1);
  assert.match(cp.stderr, /not supported/);
  const feat = JSON.parse(ok(rs(['features']), 'features').stdout);
  assert.ok(feat.hooks.includes('poststop'));
  // containerd sends single-dash flags.
  ok(rs(['run', '-no-subreaper', '-bundle', old, newId()]), 'Go-style flags');
});

test('concurrent commands on one id are serialized', { skip }, async () => {
  const bundle = makeBundle((s) => { s.process.args = ['sh', '-c', 'sleep 30']; });
  const id = newId();
  const creates = await Promise.all([1, 2, 3].map(() => rsAsync(['create', '--bundle', bundle, id])));
  assert.equal(creates.filter((r) => r.code === 0).length, 1, creates.map((r) => r.stderr).join(''));
  assert.ok(creates.filter((r) => r.code !== 0).every((r) => /already exists/.test(r.stderr)));
  const starts = await Promise.all([1, 2, 3].map(() => rsAsync(['start', id])));
  assert.equal(starts.filter((r) => r.code === 0).length, 1, starts.map((r) => r.stderr).join(''));
  const ops = await Promise.all([rsAsync(['pause', id]), rsAsync(['state', id]), rsAsync(['delete', '--force', id]),
    rsAsync(['kill', id, 'KILL'])]);
  assert.equal(ops[2].code, 0, ops[2].stderr);
  assert.ok(!fs.existsSync(path.join(ROOT, id)));
});

test('cgroups: linux.cgroupsPath gets the guest processes and the limits', { skip }, async () => {
  const mem = '/sys/fs/cgroup/memory';
  const v1 = fs.existsSync(path.join(mem, 'memory.limit_in_bytes'));
  if (!v1 && !fs.existsSync('/sys/fs/cgroup/cgroup.controllers')) return;
  const cg = `/tsvisor-e2e-${process.pid}`;
  const bundle = makeBundle((s) => {
    s.process.args = ['sleep', '30'];
    s.linux.cgroupsPath = cg;
    s.linux.resources = { memory: { limit: 256 << 20 }, pids: { limit: 64 } };
  });
  const id = newId();
  ok(rs(['run', '--detach', '--bundle', bundle, id]), 'run');
  const dir = v1 ? path.join(mem, cg) : path.join('/sys/fs/cgroup', cg);
  try {
    assert.equal(fs.readFileSync(path.join(dir, v1 ? 'memory.limit_in_bytes' : 'memory.max'), 'utf8').trim(), String(256 << 20));
    const hostPids = JSON.parse(ok(rs(['ps', '--format', 'json', id]), 'ps').stdout);
    const procs = fs.readFileSync(path.join(dir, 'cgroup.procs'), 'utf8').trim().split('\n').map(Number);
    for (const p of hostPids) assert.ok(procs.includes(p), `stub ${p} is in the cgroup`);
    ok(rs(['update', '--resources', '-', id], { input: JSON.stringify({ memory: { limit: 128 << 20 } }) }), 'update');
    assert.equal(fs.readFileSync(path.join(dir, v1 ? 'memory.limit_in_bytes' : 'memory.max'), 'utf8').trim(), String(128 << 20));
    const stats = JSON.parse(ok(rs(['events', '--stats', id]), 'events').stdout);
    assert.ok(stats.data.memory.usage.usage > 0);
  } finally {
    ok(rs(['delete', '--force', id]), 'delete');
  }
  assert.ok(!fs.existsSync(dir), 'delete removes the cgroup');
});

test('what the container sees: mount table in spec order, /dev/ptmx, devices, masked and read-only paths, ids', { skip }, () => {
  const bundle = makeBundle((s) => {
    s.mounts = [
      { destination: '/proc', type: 'proc', source: 'proc', options: ['nosuid', 'noexec', 'nodev'] },
      { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755'] },
      { destination: '/dev/pts', type: 'devpts', source: 'devpts', options: ['nosuid', 'noexec'] },
      { destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid', 'noexec', 'nodev', 'mode=1777'] },
      { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
      { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', 'ro'] },
      { destination: '/mnt/bin', source: path.join(bundle0(s), 'bin'), options: ['rbind', 'ro'] },
    ];
    s.linux.devices = [{ path: '/dev/test1', type: 'c', major: 10, minor: 666, fileMode: 0o432, uid: 1, gid: 2 }];
    s.linux.maskedPaths = ['/secret', '/secretdir', '/proc/nonexistent'];
    s.linux.readonlyPaths = ['/proc/sys', '/rw'];
    s.process.oomScoreAdj = 123;
    s.process.args = ['sh', '-c', [
      'cat /proc/self/mountinfo', 'echo ---', 'ls -l /dev/ptmx /dev/test1', 'echo ---',
      'cat /secret; echo "[$(ls /secretdir)]"; echo x > /rw/f || echo rw-refused', 'cat /proc/self/oom_score_adj',
    ].join('; ')];
  });
  fs.writeFileSync(path.join(bundle, 'rootfs', 'secret'), 'hidden\n');
  fs.mkdirSync(path.join(bundle, 'rootfs', 'secretdir'));
  fs.writeFileSync(path.join(bundle, 'rootfs', 'secretdir', 'x'), 'hidden\n');
  fs.mkdirSync(path.join(bundle, 'rootfs', 'rw'));
  const r = ok(rs(['run', '--bundle', bundle, newId()]), 'run');
  const [mountinfo, devs, rest] = r.stdout.split('---\n');
  const rows = mountinfo.trim().split('\n').map((l) => {
    const f = l.split(' ');
    const sep = f.indexOf('-');
    return { root: f[3], point: f[4], type: f[sep + 1], source: f[sep + 2], opts: f[5] };
  });
  const want = [['/proc', 'proc', 'proc'], ['/dev', 'tmpfs', 'tmpfs'], ['/dev/pts', 'devpts', 'devpts'],
    ['/dev/shm', 'tmpfs', 'shm'], ['/dev/mqueue', 'mqueue', 'mqueue'], ['/sys', 'sysfs', 'sysfs']];
  const got = rows.filter((m) => want.some(([p]) => p === m.point)).map((m) => [m.point, m.type, m.source]);
  assert.deepEqual(got, want, mountinfo);
  const bin = rows.find((m) => m.point === '/mnt/bin');
  assert.ok(bin && bin.root.endsWith('/bin') && bin.opts.startsWith('ro'), mountinfo);
  assert.ok(rows.some((m) => m.point === '/proc/sys' && m.opts.startsWith('ro')), mountinfo);
  assert.ok(rows.some((m) => m.point === '/secret') && rows.some((m) => m.point === '/secretdir'), mountinfo);
  assert.match(devs, /ptmx -> pts\/ptmx/);
  assert.match(devs, /^cr---wx-w-\s+1 1\s+2\s+10,\s+666 .*\/dev\/test1$/m);
  assert.equal(rest, '[]\nrw-refused\n123\n', r.stdout + r.stderr);
});

/** bundle0 is where makeBundle's edit is building (its rootfs path, from the spec). */
function bundle0() {
  return path.join(tmp, `bundle${seq - 1}`, 'rootfs');
}

test('--overlay2=none: the container writes its rootfs; root.readonly refuses; the default overlay leaves it alone', { skip }, () => {
  const hostFile = path.join(tmp, 'hostname-file');
  fs.writeFileSync(hostFile, 'boxy\n');
  // A symlink in the rootfs aimed at a host directory: the Gofer resolves
  // nothing, the Sentry resolves it inside the container's root.
  const outside = fs.mkdtempSync(path.join(os.tmpdir(), 'tsv-outside-'));
  const script = 'echo hello > /made.txt && echo made; mkdir -p /d/e && echo deep > /d/e/f; rm /gone.txt; ' +
    'cat /etc/hostname; echo guest > /etc/hostname; ls /gone.txt 2>/dev/null || echo no-gone; ' +
    'echo x > /esc/f 2>/dev/null; echo y > /esc2/f 2>/dev/null; true';
  const bundle = makeBundle((s) => {
    s.process.args = ['sh', '-c', script];
    s.root.readonly = false;
    s.mounts.push({ destination: '/etc/hostname', type: 'bind', source: hostFile, options: ['rbind', 'rw'] });
  });
  const rootfs = path.join(bundle, 'rootfs');
  fs.writeFileSync(path.join(rootfs, 'gone.txt'), 'bye\n');
  fs.symlinkSync('../'.repeat(20) + outside.slice(1), path.join(rootfs, 'esc'));
  fs.symlinkSync(outside, path.join(rootfs, 'esc2'));

  // The default (root:memory): the rootfs is never written.
  const before = fs.readdirSync(rootfs).sort();
  let r = ok(rs(['run', '--bundle', bundle, newId()]), 'run (root:memory)');
  assert.equal(r.stdout, 'made\nboxy\nno-gone\n', r.stderr);
  assert.deepEqual(fs.readdirSync(rootfs).sort(), before, 'root:memory leaves the rootfs as it was');
  assert.equal(fs.readFileSync(path.join(rootfs, 'gone.txt'), 'utf8'), 'bye\n');

  // none: writes reach the rootfs and stay after delete; single-file bind
  // mounts are still copies (the rootfs keeps no trace of them but the mount point).
  const id = newId();
  ok(rs(['create', '--bundle', bundle, id], { global: ['--overlay2=none'] }), 'create (none)');
  ok(rs(['start', id]), 'start');
  ok(rs(['wait', id]), 'wait');
  ok(rs(['delete', id]), 'delete');
  assert.equal(fs.readFileSync(path.join(rootfs, 'made.txt'), 'utf8'), 'hello\n');
  assert.equal(fs.readFileSync(path.join(rootfs, 'd', 'e', 'f'), 'utf8'), 'deep\n');
  assert.ok(!fs.existsSync(path.join(rootfs, 'gone.txt')), 'a removal reaches the rootfs');
  assert.equal(fs.readFileSync(hostFile, 'utf8'), 'boxy\n', 'a file bind mount is a copy');
  assert.equal(fs.readFileSync(path.join(rootfs, 'etc', 'hostname'), 'utf8'), '', 'its mount point is made, empty');
  assert.equal(fs.statSync(path.join(rootfs, 'made.txt')).uid, 0);
  assert.deepEqual(fs.readdirSync(outside), [], 'symlinks in the rootfs never reach the host');
  fs.rmSync(outside, { recursive: true, force: true });

  // none with root.readonly: EROFS, nothing written.
  const roBundle = makeBundle((s) => {
    s.process.args = ['sh', '-c', 'echo x > /ro.txt; echo "rc=$?"; mkdir /dd 2>&1; touch /bin/busybox 2>&1; true'];
    s.root.readonly = true;
  });
  r = ok(rs(['run', '--bundle', roBundle, newId()], { global: ['--overlay2=none'] }), 'run (none, readonly)');
  assert.match(r.stdout + r.stderr, /Read-only file system/);
  assert.match(r.stdout, /rc=1/);
  assert.ok(!fs.existsSync(path.join(roBundle, 'rootfs', 'ro.txt')) && !fs.existsSync(path.join(roBundle, 'rootfs', 'dd')));

  // The media gVisor has that tsvisor does not are refused, naming the supported ones.
  r = rs(['run', '--bundle', bundle, newId()], { global: ['--overlay2=root:self'] });
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /root:memory.*none/);
});
