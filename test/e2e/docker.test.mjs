// Docker and containerd driving ./bin/runsc as their OCI runtime, through
// containerd's runc v2 shim: the done-when list of issue 5. Opt-in: it needs
// a Docker engine with tsvisor registered and the local/busybox image
// (tools/docker/setup.sh docker does all that; TSV_DOCKER=1 makes this test
// run it). Without an engine every test is skipped, loudly.
//
//   tools/docker/setup.sh docker && node --test test/e2e/docker.test.mjs

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
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

// ---- networking as Docker users meet it: published ports, bridges, the host, host/none ----

/** bridgeGateway is the default bridge's gateway (docker0), or null when the engine has no bridge (setup.sh without iptables). */
function bridgeGateway() {
  // The default bridge's IPAM config names no gateway (Docker 20.10): docker0's own address is it.
  const r = docker(['network', 'inspect', 'bridge', '-f', '{{index .Options "com.docker.network.bridge.name"}}']);
  if (r.code !== 0 || !r.stdout.trim()) return null;
  return /inet (\d+\.\d+\.\d+\.\d+)\//.exec(sh('ip', ['-4', '-o', 'addr', 'show', 'dev', r.stdout.trim()]).stdout)?.[1] ?? null;
}
const GATEWAY = skip ? null : bridgeGateway();
const netSkip = skip || (!GATEWAY && 'the engine has no default bridge (tools/docker/setup.sh enables it when iptables works)');

/** node runs a small script in another node process (the host side of a test: this one blocks in spawnSync). */
const node = (script, args = [], o) => sh(process.execPath, ['-e', script, ...args], o);
/** httpGet fetches url from the host; its body, or '' on failure. */
function httpGet(url, timeout = 10000) {
  const r = node('fetch(process.argv[1], { signal: AbortSignal.timeout(+process.argv[2]) }).then((r) => r.text()).then((t) => process.stdout.write(t), () => process.exit(1))',
    [url, String(timeout)], { timeout: timeout + 5000 });
  return r.code === 0 ? r.stdout : '';
}
/** udpEcho sends text to host:port over UDP (retrying) and returns the reply, or '' when none came. */
function udpEcho(host, port, text) {
  const r = node(`const s = require('dgram').createSocket('udp4'); let n = 0;
    const go = () => { if (n++ === 8) process.exit(1); s.send(process.argv[3], +process.argv[2], process.argv[1]); setTimeout(go, 500); };
    s.on('message', (m) => { process.stdout.write(m); process.exit(0); }); go();`, [host, String(port), text], { timeout: 15000 });
  return r.code === 0 ? r.stdout : '';
}
/** ipOf is a container's address on its (only) network. */
const ipOf = (name) => docker(['inspect', '-f', '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}', name]).stdout.trim();
/** web starts a detached httpd container serving body on port (container side) with opts. */
function web(name, opts, body, port = 80) {
  return docker(['run', '-d', '--name', name, `--runtime=${RUNTIME}`, ...opts, IMAGE,
    'sh', '-c', `mkdir -p /www && echo ${body} > /www/index.html && exec httpd -f -p ${port} -h /www`]);
}
/** staticTool compiles test/e2e/NAME.c statically into a directory to mount in containers, or returns null without a compiler. */
function staticTool(name) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `tsv-docker-${name}-`));
  const r = sh('cc', ['-static', '-O2', '-o', path.join(dir, name), path.join(HERE, `${name}.c`)]);
  if (r.code !== 0) {
    fs.rmSync(dir, { recursive: true, force: true });
    return null;
  }
  return dir;
}

test('published ports: -p, -p 127.0.0.1:, -p /udp, -P and docker port, from the host through proxy and DNAT', { skip: netSkip }, (t) => {
  const tcp = uniq('pub');
  const udp = uniq('pubudp');
  const tools = staticTool('udp_echo');
  try {
    const d = docker(['run', '-d', '--name', tcp, `--runtime=${RUNTIME}`, '-p', '18080:80', '-p', '127.0.0.1:18081:80', '-P', '--expose', '81', IMAGE,
      'sh', '-c', 'mkdir -p /www && echo hi-$HOSTNAME > /www/index.html && httpd -p 81 -h /www && exec httpd -f -p 80 -h /www']);
    assert.equal(d.code, 0, d.stderr);
    const want = `hi-${d.stdout.trim().slice(0, 12)}\n`;
    const ip = ipOf(tcp);
    assert.match(ip, /^\d+\.\d+\.\d+\.\d+$/);
    assert.ok(waitFor(() => httpGet(`http://${ip}:80/`, 2000) === want), 'the container answers on its own address');
    assert.equal(httpGet('http://127.0.0.1:18080/'), want, 'through docker-proxy');
    const hostIp = sh('ip', ['-4', '-o', 'route', 'get', '1.1.1.1']).stdout.match(/ src (\S+)/)?.[1];
    if (hostIp) assert.equal(httpGet(`http://${hostIp}:18080/`), want, 'through the DNAT rule');
    assert.equal(httpGet('http://127.0.0.1:18081/'), want);
    if (hostIp) assert.equal(httpGet(`http://${hostIp}:18081/`, 2000), '', 'published on 127.0.0.1 only');
    const port = docker(['port', tcp, '81/tcp']).stdout.split('\n')[0].match(/:(\d+)$/)?.[1];
    assert.ok(port, 'docker port lists -P\'s port');
    assert.equal(httpGet(`http://127.0.0.1:${port}/`), want);
    if (!tools) {
      t.skip('no static C compiler (cc -static) for the UDP echo');
      return;
    }
    const u = docker(['run', '-d', '--name', udp, `--runtime=${RUNTIME}`, '-v', `${tools}:/t:ro`, '-p', '18082:80/udp', IMAGE, '/t/udp_echo', '80']);
    assert.equal(u.code, 0, u.stderr);
    assert.ok(waitFor(() => docker(['logs', udp]).stdout.includes('listening')), 'the UDP echo starts');
    assert.equal(udpEcho(ipOf(udp), 80, 'ping-direct'), 'ping-direct');
    assert.equal(udpEcho('127.0.0.1', 18082, 'ping-published'), 'ping-published');
  } finally {
    docker(['rm', '-f', tcp, udp]);
    if (tools) fs.rmSync(tools, { recursive: true, force: true });
  }
});

test('container to container: the default bridge by address, a user-defined network by name', { skip: netSkip }, () => {
  const a = uniq('c2c');
  const net = uniq('c2cnet');
  const b = uniq('c2cb');
  try {
    assert.equal(web(a, [], 'on-bridge').code, 0);
    const ip = ipOf(a);
    // busybox's wget -T crashes (under runc too): timeout(1) bounds it.
    const r = run([], ['sh', '-c', `for i in 1 2 3 4 5; do timeout 10 wget -qO- http://${ip}/ && exit 0; sleep 1; done; exit 1`]);
    assert.equal(r.stdout, 'on-bridge\n', r.stderr);
    assert.equal(docker(['network', 'create', net]).code, 0);
    assert.equal(web(b, ['--network', net], 'on-user-net', 8080).code, 0);
    const s = run(['--network', net], ['sh', '-c', `for i in 1 2 3 4 5; do timeout 10 wget -qO- http://${b}:8080/ && exit 0; sleep 1; done; exit 1`]);
    assert.equal(s.stdout, 'on-user-net\n', s.stderr);
    // Not across networks: Docker isolates bridges from each other.
    const x = run(['--network', net], ['sh', '-c', `timeout 5 wget -qO- http://${ip}/ || echo unreachable`]);
    assert.equal(x.stdout, 'unreachable\n');
  } finally {
    docker(['rm', '-f', a, b]);
    docker(['network', 'rm', net]);
  }
});

/** hostServer starts an HTTP server on the host at addr:port answering body; returns its stopper. */
function hostServer(addr, port, body) {
  const flag = path.join(os.tmpdir(), `tsv-docker-srv-${process.pid}-${port}`);
  fs.rmSync(flag, { force: true });
  const child = spawn(process.execPath, ['-e', `require('http').createServer((q, r) => r.end(process.argv[3])).listen(+process.argv[2], process.argv[1],
    () => require('fs').writeFileSync(process.argv[4], ''))`, addr, String(port), body, flag], { stdio: 'ignore' });
  assert.ok(waitFor(() => fs.existsSync(flag), 10000), `a host server on ${addr}:${port}`);
  return () => {
    child.kill();
    fs.rmSync(flag, { force: true });
  };
}

test('container to host: a server on the bridge gateway, from the bridge and from a user-defined network', { skip: netSkip }, () => {
  const stop = hostServer(GATEWAY, 18090, 'from-host');
  const net = uniq('c2hnet');
  try {
    const r = run([], ['timeout', '10', 'wget', '-qO-', `http://${GATEWAY}:18090/`]);
    assert.equal(r.stdout, 'from-host', r.stderr);
    assert.equal(docker(['network', 'create', net]).code, 0);
    const u = run(['--network', net], ['timeout', '10', 'wget', '-qO-', `http://${GATEWAY}:18090/`]);
    assert.equal(u.stdout, 'from-host', u.stderr);
  } finally {
    stop();
    docker(['network', 'rm', net]);
  }
});

test('--network host shares the host\'s network (and leaves it alone); --network none has loopback only', { skip: netSkip }, () => {
  const addrs = () => sh('ip', ['-br', 'addr']).stdout.split('\n').filter((l) => !l.startsWith('veth')).join('\n');
  const before = addrs();
  const stop = hostServer('127.0.0.1', 18091, 'host-net');
  try {
    const h = run(['--network', 'host'], ['sh', '-c', 'ip -o -4 addr; timeout 10 wget -qO- http://127.0.0.1:18091/ || echo no-loopback']);
    assert.equal(h.code, 0, h.stderr);
    assert.match(h.stdout, new RegExp(`inet ${GATEWAY.replace(/\./g, '\\.')}/`), 'the host\'s interfaces are seen');
    assert.match(h.stdout, /^host-net$/m, 'a server on the host\'s loopback: reached through the host\'s own stack');
    // Docker names the host's namespace in the spec: it must not be taken over (its addresses removed).
    assert.equal(addrs(), before, 'the host\'s addresses are untouched');
  } finally {
    stop();
  }
  const n = run(['--network', 'none'], ['sh', '-c', `ip -o link | wc -l; ip -o -4 addr; grep -c : /proc/net/dev; timeout 5 wget -qO- http://${GATEWAY}:18091/ 2>&1 || true`]);
  assert.equal(n.code, 0, n.stderr);
  const lines = n.stdout.split('\n');
  assert.equal(lines[0].trim(), '1', n.stdout);
  assert.match(lines[1], /^1: lo\s+inet 127\.0\.0\.1\/8/, n.stdout);
  assert.equal(lines[2].trim(), '1', `/proc/net/dev lists lo alone: ${n.stdout}`);
  assert.match(n.stdout, /Network is unreachable/);
});

test('a published connection ends when the container stops; restart publishes the port again', { skip: netSkip }, () => {
  const name = uniq('conn');
  try {
    // The shell is init and waits for nc: a TERM trap ends both at once (runc too).
    const d = docker(['run', '-d', '--name', name, `--runtime=${RUNTIME}`, '-p', '18083:80', IMAGE, 'sh', '-c',
      'trap "kill %1; exit 0" TERM; while true; do nc -l -p 80 -e sh -c "echo hello; exec sleep 1000"; done & wait']);
    assert.equal(d.code, 0, d.stderr);
    const out = path.join(os.tmpdir(), `tsv-docker-conn-${process.pid}`);
    const connect = () => {
      fs.rmSync(out, { force: true });
      const c = spawn(process.execPath, ['-e', `const fs = require('fs'); const s = require('net').connect(18083, '127.0.0.1');
        s.on('data', (d) => fs.appendFileSync(process.argv[1], d)); s.on('close', () => fs.appendFileSync(process.argv[1], 'closed\\n'));
        s.on('error', () => {}); setTimeout(() => process.exit(0), 60000)`, out], { stdio: 'ignore' });
      return c;
    };
    const read = () => (fs.existsSync(out) ? fs.readFileSync(out, 'utf8') : '');
    // Until the server listens, docker-proxy accepts and closes: connect again then.
    const answered = () => {
      let c = connect();
      const ok = waitFor(() => {
        if (read().includes('hello')) return true;
        if (read().includes('closed')) c = connect();
        return false;
      }, 20000);
      return ok ? c : (c.kill(), null);
    };
    let c = answered();
    assert.ok(c, 'the published port answers');
    const t0 = Date.now();
    assert.equal(docker(['stop', '-t', '10', name]).code, 0);
    assert.ok(Date.now() - t0 < 8000, `docker stop with an open connection took ${Date.now() - t0} ms`);
    assert.ok(waitFor(() => read().includes('closed'), 5000), 'the host side sees the connection end');
    c.kill();
    assert.equal(docker(['restart', '-t', '2', name]).code, 0);
    c = answered();
    assert.ok(c, 'the port works after restart');
    c.kill();
    fs.rmSync(out, { force: true });
  } finally {
    docker(['rm', '-f', name]);
  }
});

test('DNS over TCP to 127.0.0.11: names of the network, pipelined on one connection', { skip }, (t) => {
  const tools = staticTool('dns_tcp');
  if (!tools) {
    t.skip('no static C compiler (cc -static) for the TCP DNS client');
    return;
  }
  const net = uniq('dnstcp');
  const peer = uniq('dnspeer');
  try {
    assert.equal(docker(['network', 'create', net]).code, 0);
    assert.equal(docker(['run', '-d', '--name', peer, '--network', net, `--runtime=${RUNTIME}`, IMAGE, 'sleep', '300']).code, 0);
    const ip = ipOf(peer);
    // Two queries written at once; both answers come back on the connection, each with its id.
    const r = run(['--network', net, '-v', `${tools}:/t:ro`], ['/t/dns_tcp', peer]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.equal(r.stdout, `id=ok rcode=0 answers=1 ${ip}\nid=ok rcode=0 answers=1 ${ip}\n`);
  } finally {
    docker(['rm', '-f', peer]);
    docker(['network', 'rm', net]);
    fs.rmSync(tools, { recursive: true, force: true });
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
