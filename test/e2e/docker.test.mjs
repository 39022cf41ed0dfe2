// Docker and containerd driving ./bin/runsc as their OCI runtime, through
// containerd's runc v2 shim: the done-when list of issue 5. Opt-in: it needs
// a Docker engine with tsvisor registered and the local/busybox image
// (tools/docker/setup.sh docker does all that; TSV_DOCKER=1 makes this test
// run it). Without an engine every test is skipped, loudly.
//
//   tools/docker/setup.sh docker && node --test test/e2e/docker.test.mjs

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const REPO = path.resolve(HERE, '../..');
const RUNTIME = process.env.TSV_DOCKER_RUNTIME ?? 'tsvisor';
const IMAGE = 'local/busybox:latest';
const PY = ['python3'].find((p) => spawnSync(p, ['-c', '1']).status === 0);

function sh(cmd, args, { input, timeout = 60000 } = {}) {
  const r = spawnSync(cmd, args, { input, timeout, encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '', error: r.error };
}
const docker = (args, o) => sh('docker', args, o);

/** why is the reason to skip, or '' when Docker with our runtime is usable. */
function why() {
  if (process.getuid() !== 0) return 'needs root';
  if (spawnSync('docker', ['--version']).status !== 0) return 'no docker CLI';
  if (process.env.TSV_DOCKER === '1') {
    const r = sh(path.join(REPO, 'tools/docker/setup.sh'), ['docker'], { timeout: 300000 });
    if (r.code !== 0) return `tools/docker/setup.sh docker failed: ${r.stderr.trim().split('\n').pop()}`;
  }
  const info = docker(['info', '--format', '{{json .Runtimes}}']);
  if (info.code !== 0) return 'no Docker engine running (tools/docker/setup.sh docker, or TSV_DOCKER=1)';
  if (!info.stdout.includes(`"${RUNTIME}"`)) return `runtime ${RUNTIME} is not registered (tools/docker/setup.sh docker)`;
  if (docker(['image', 'inspect', IMAGE]).code !== 0) return `image ${IMAGE} is missing (tools/docker/setup.sh docker)`;
  return '';
}
const reason = why();
const skip = reason ? `SKIP (not a pass): ${reason}` : false;
if (skip) process.stderr.write(`\n*** docker.test.mjs: ${skip} ***\n\n`);

const names = [];
const uniq = (p) => {
  const n = `tsv-${p}-${process.pid}-${names.length}`;
  names.push(n);
  return n;
};
after(() => {
  if (names.length) docker(['rm', '-f', ...names]);
});

/** run is `docker run --rm --runtime=RUNTIME [opts] IMAGE cmd...`. */
const run = (opts, cmd, o) => docker(['run', '--rm', `--runtime=${RUNTIME}`, ...opts, IMAGE, ...cmd], o);

/** pty runs argv in a pseudo-terminal driven by steps (see pty_drive.py). */
function pty(argv, steps) {
  const r = sh(PY, [path.join(HERE, 'pty_drive.py'), ...argv, '--', ...steps], { timeout: 90000 });
  const m = /\nEXIT (\S+)\s*$/.exec(r.stdout);
  return { out: r.stdout, exit: m ? m[1] : 'none' };
}

test('docker run: output, exit codes, stdin, environment, cwd, user', { skip }, () => {
  const hi = run([], ['/bin/busybox', 'echo', 'hi']);
  assert.equal(hi.code, 0, hi.stderr);
  assert.equal(hi.stdout, 'hi\n');
  assert.equal(run([], ['sh', '-c', 'exit 42']).code, 42);
  // A container's init ignores signals it did not handle, even SIGKILL, from inside (Linux's SIGNAL_UNKILLABLE).
  assert.equal(run([], ['sh', '-c', 'kill -9 $$; exit 3']).code, 3);
  const missing = run([], ['/bin/nonexistent']);
  assert.equal(missing.code, 127);
  assert.match(missing.stderr, /nonexistent/);
  assert.equal(run(['-i'], ['cat'], { input: 'piped\ninput\n' }).stdout, 'piped\ninput\n');
  assert.equal(run(['-e', 'FOO=bar'], ['sh', '-c', 'echo $FOO']).stdout, 'bar\n');
  assert.equal(run(['-w', '/tmp'], ['pwd']).stdout, '/tmp\n');
  assert.equal(run(['--user', '1000:1000'], ['id']).stdout, 'uid=1000(user) gid=1000(user) groups=1000(user)\n');
});

test('docker run: --read-only and -v HOSTDIR:/data', { skip }, () => {
  const ro = run(['--read-only'], ['sh', '-c', 'echo x > /x; echo rc=$?']);
  assert.equal(ro.stdout, 'rc=1\n');
  assert.match(ro.stderr, /Read-only file system/);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsv-docker-vol-'));
  try {
    fs.writeFileSync(path.join(dir, 'in'), 'from host\n');
    const v = run(['-v', `${dir}:/data`], ['sh', '-c', 'cat /data/in; echo from guest > /data/out']);
    assert.equal(v.code, 0, v.stderr);
    assert.equal(v.stdout, 'from host\n');
    assert.equal(fs.readFileSync(path.join(dir, 'out'), 'utf8'), 'from guest\n');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('docker run -m/--cpus/--pids-limit: /sys/fs/cgroup and /proc/meminfo show the limits', { skip }, () => {
  const files = ['memory.max', 'cpu.max', 'pids.max'].map((f) => `/sys/fs/cgroup/${f}`).join(' ');
  const r = run(['-m', '128m', '--cpus', '1.5', '--pids-limit', '50'],
    ['sh', '-c', `cat ${files}; cat /proc/self/cgroup; head -1 /proc/meminfo; test "$(cat /sys/fs/cgroup/pids.current)" -ge 1 && echo pids-ok`]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, '134217728\n150000 100000\n50\n0::/\nMemTotal:         131072 kB\npids-ok\n');
});

test('docker run -it: a shell on a terminal, ^C, ^Z, window size, exit status', { skip: skip || (!PY && 'no python3') }, () => {
  const r = pty(['docker', 'run', '--rm', '-it', `--runtime=${RUNTIME}`, IMAGE, 'sh'], [
    'w:[ -t 0 ] && echo IS-A-TTY; stty size', 'w:trap "echo GOT-WINCH" WINCH', 'r', 's:0.5', 'w:stty size',
    'w:sleep 30; echo not-interrupted', 's:1', 'c', 'w:sleep 30', 's:1', 'z', 'w:jobs', 'w:kill -9 %1', 'w:exit 5',
  ]);
  assert.equal(r.exit, '5', r.out);
  assert.match(r.out, /IS-A-TTY\n24 80/);
  assert.match(r.out, /GOT-WINCH/);
  assert.match(r.out, /\n50 132/);
  assert.doesNotMatch(r.out, /^not-interrupted$/m);
  assert.match(r.out, /Stopped\s+sleep 30/);
});

test('docker run -t: the console is /dev/pts/0 of the container (ttyname works)', { skip }, () => {
  // No pty on our side: docker -t alone still gives the container a terminal.
  const t = run(['-t'], ['/bin/busybox', 'tty']);
  assert.equal(t.code, 0, t.stdout + t.stderr);
  assert.equal(t.stdout, '/dev/pts/0\r\n');
  const st = run(['-t'], ['sh', '-c', 'readlink /proc/self/fd/0; stat -c "%t:%T %i" /dev/pts/0; stat -L -c "%t:%T %i" /proc/self/fd/0; ls /dev/pts']);
  const lines = st.stdout.split('\r\n');
  assert.equal(lines[0], '/dev/pts/0', st.stdout);
  assert.equal(lines[1], '88:0 3', st.stdout); // major 136, minor 0
  assert.equal(lines[2], lines[1], st.stdout);
  assert.match(lines[3], /^0\s+ptmx$/, st.stdout);
  // Without -t there is no terminal.
  assert.equal(run([], ['/bin/busybox', 'tty']).stdout, 'not a tty\n');
  if (PY) {
    // exec -it next to a console: its own /dev/pts/1, and its /dev/tty (job control) is that one.
    const name = uniq('ttyexec');
    assert.equal(docker(['run', '-dt', '--name', name, `--runtime=${RUNTIME}`, IMAGE, 'sh', '-c', 'while true; do sleep 1; done']).code, 0);
    const it = pty(['docker', 'exec', '-it', name, 'sh'], ['s:2', 'w:tty', 'w:exit 3', 's:1']);
    assert.equal(it.exit, '3', it.out);
    assert.match(it.out, /\/dev\/pts\/1/, it.out);
    docker(['rm', '-f', name]);
  }
});

test('docker exec, exec -it, top, kill -s, stats, pause, restart, stop, rm -f', { skip }, () => {
  const name = uniq('life');
  const script = 'trap "echo got USR1" USR1; trap "echo got TERM; exit 3" TERM; echo started; while true; do sleep 1; done';
  const d = docker(['run', '-d', '--name', name, `--runtime=${RUNTIME}`, IMAGE, 'sh', '-c', script]);
  assert.equal(d.code, 0, d.stderr);
  assert.ok(waitFor(() => docker(['logs', name]).stdout.includes('started')), 'the container starts');

  const ex = docker(['exec', name, 'sh', '-c', 'echo in-exec; exit 7']);
  assert.equal(ex.code, 7);
  assert.equal(ex.stdout, 'in-exec\n');
  assert.equal(docker(['exec', '-u', '1000', '-e', 'X=1', '-w', '/tmp', name, 'sh', '-c', 'id -u; echo $X; pwd']).stdout, '1000\n1\n/tmp\n');
  if (PY) {
    for (let i = 0; i < 2; i++) { // twice: the second gets the first's pty number again
      const it = pty(['docker', 'exec', '-it', name, 'sh'], ['w:[ -t 1 ] && echo EXEC-TTY; tty', 'w:sleep 30; echo not-interrupted', 's:1', 'c', 'w:exit 4']);
      assert.equal(it.exit, '4', it.out);
      assert.match(it.out, /EXEC-TTY/);
      assert.match(it.out, /\/dev\/pts\/0/); // the container's own console is not a terminal
      assert.doesNotMatch(it.out, /^not-interrupted$/m);
    }
  }

  const top = docker(['top', name]);
  assert.equal(top.code, 0, top.stderr);
  assert.ok(top.stdout.trim().split('\n').length >= 2, top.stdout);

  assert.equal(docker(['kill', '-s', 'USR1', name]).code, 0);
  assert.ok(waitFor(() => docker(['logs', name]).stdout.includes('got USR1')), 'USR1 reaches the trap');

  // The sandbox process is in the container's cgroup: the shim finds its memory there.
  // (PIDs stays 0 on cgroup v1: only the stubs join the pids hierarchy, see cgroup.ts.)
  const st = docker(['stats', '--no-stream', '--format', '{{.MemUsage}}', name]);
  assert.equal(st.code, 0, st.stderr);
  const m = /^([\d.]+)([KMG]i?B) \/ (\S+)$/.exec(st.stdout.trim());
  assert.ok(m, `stats: ${st.stdout}`);
  assert.ok(Number(m[1]) > 0 && (m[2] !== 'KiB' && m[2] !== 'kB'), `the sandbox's memory is counted: ${st.stdout}`);

  assert.equal(docker(['pause', name]).code, 0);
  assert.equal(docker(['inspect', '-f', '{{.State.Status}}', name]).stdout.trim(), 'paused');
  assert.equal(docker(['unpause', name]).code, 0);
  assert.equal(docker(['inspect', '-f', '{{.State.Status}}', name]).stdout.trim(), 'running');
  assert.equal(docker(['exec', name, 'echo', 'after-unpause']).stdout, 'after-unpause\n');

  assert.equal(docker(['restart', '-t', '2', name]).code, 0);
  assert.ok(waitFor(() => docker(['logs', name]).stdout.split('started').length === 3), 'restarted');

  const t0 = Date.now();
  assert.equal(docker(['stop', '-t', '10', name]).code, 0);
  assert.ok(Date.now() - t0 < 8000, 'SIGTERM stops it without waiting for SIGKILL');
  assert.equal(docker(['inspect', '-f', '{{.State.ExitCode}}', name]).stdout.trim(), '3');
  assert.match(docker(['logs', name]).stdout, /got TERM/);

  assert.equal(docker(['start', name]).code, 0);
  assert.equal(docker(['rm', '-f', name]).code, 0);
  assert.notEqual(docker(['inspect', name]).code, 0);
});

test('docker stop: SIGKILL after the timeout when SIGTERM is ignored', { skip }, () => {
  const name = uniq('stop');
  assert.equal(docker(['run', '-d', '--name', name, `--runtime=${RUNTIME}`, IMAGE, 'sh', '-c', 'trap "" TERM; echo up; while true; do sleep 1; done']).code, 0);
  assert.ok(waitFor(() => docker(['logs', name]).stdout.includes('up')));
  assert.equal(docker(['stop', '-t', '1', name]).code, 0);
  assert.equal(docker(['inspect', '-f', '{{.State.ExitCode}}', name]).stdout.trim(), '137');
});

test('user-defined network: container names resolve through Docker\'s embedded DNS (127.0.0.11)', { skip }, () => {
  const net = uniq('net');
  const web = uniq('web');
  try {
    const mk = docker(['network', 'create', net]);
    assert.equal(mk.code, 0, mk.stderr);
    const srv = docker(['run', '-d', '--name', web, '--network', net, `--runtime=${RUNTIME}`, IMAGE,
      'sh', '-c', 'mkdir -p /www && echo hello-by-name > /www/index.html && exec httpd -f -p 80 -h /www']);
    assert.equal(srv.code, 0, srv.stderr);
    // busybox's nslookup asks the server itself; wget goes through glibc's getaddrinfo (sendmmsg, IP_RECVERR).
    const script = `grep -q '^nameserver 127.0.0.11' /etc/resolv.conf || { cat /etc/resolv.conf; exit 10; }
      for i in 1 2 3 4 5 6 7 8 9 10; do wget -qO- http://${web}/ 2>/dev/null && break; sleep 1; done
      nslookup ${web} 127.0.0.11 >/dev/null || exit 11
      nslookup no-such-name-${process.pid} >/dev/null 2>&1 && exit 12
      exit 0`;
    const r = run(['--network', net], ['sh', '-c', script]);
    assert.equal(r.stdout, 'hello-by-name\n', r.stderr);
    assert.equal(r.code, 0, `${r.stdout}${r.stderr}`);
  } finally {
    docker(['rm', '-f', web]);
    docker(['network', 'rm', net]);
  }
});

test('ctr run through the runc v2 shim with --runc-binary', { skip: skip || (spawnSync('ctr', ['--version']).status !== 0 && 'no ctr') }, () => {
  const env = { ...process.env, CONTAINERD_ADDRESS: '/var/run/docker/containerd/containerd.sock', CONTAINERD_NAMESPACE: 'tsv-test' };
  const ctr = (args, o = {}) => {
    const r = spawnSync('ctr', args, { env, encoding: 'utf8', timeout: 60000, ...o });
    return { code: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
  };
  if (!ctr(['images', 'ls', '-q']).stdout.includes(`docker.io/${IMAGE}`)) {
    const tar = path.join(os.tmpdir(), `tsv-busybox-${process.pid}.tar`);
    assert.equal(docker(['save', IMAGE, '-o', tar]).code, 0);
    const imp = ctr(['images', 'import', tar]);
    fs.rmSync(tar, { force: true });
    assert.equal(imp.code, 0, imp.stderr);
  }
  const id = `tsv-ctr-${process.pid}`;
  const base = ['run', '--rm', '--runtime', 'io.containerd.runc.v2', '--runc-binary', path.join(REPO, 'bin/runsc'), `docker.io/${IMAGE}`];
  const r = ctr([...base, id, '/bin/busybox', 'echo', 'hi']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, 'hi\n');
  assert.equal(ctr([...base, `${id}-2`, 'sh', '-c', 'exit 9']).code, 9);
});

function waitFor(fn, ms = 15000) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (fn()) return true;
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 200);
  }
  return false;
}
