// A Debian 12 container under Docker with tsvisor, used as a new user would:
// a login shell, users and privilege drops, packages, Python, and services
// (nginx, redis) on a user-defined bridge network reached from the host and
// from a second container. Opt-in: it needs the Docker engine with tsvisor
// (tools/docker/setup.sh docker) and the local/debian image, which
// tools/docker/debian-image.sh builds (it downloads ~100 MB, so CI does not).
// Without them every test is skipped, loudly.
//
//   tools/docker/setup.sh docker && tools/docker/debian-image.sh && node --test test/e2e/debian.test.mjs

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const RUNTIME = process.env.TSV_DOCKER_RUNTIME ?? 'tsvisor';
const IMAGE = 'local/debian:latest';
const NET = 'tsv-debian-test';
const PY = ['python3'].find((p) => spawnSync(p, ['-c', '1']).status === 0);

function sh(cmd, args, { input, timeout = 120000 } = {}) {
  const r = spawnSync(cmd, args, { input, timeout, encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}
const docker = (args, o) => sh('docker', args, o);

function why() {
  if (process.getuid() !== 0) return 'needs root';
  if (spawnSync('docker', ['--version']).status !== 0) return 'no docker CLI';
  const info = docker(['info', '--format', '{{json .Runtimes}}']);
  if (info.code !== 0) return 'no Docker engine running (tools/docker/setup.sh docker)';
  if (!info.stdout.includes(`"${RUNTIME}"`)) return `runtime ${RUNTIME} is not registered (tools/docker/setup.sh docker)`;
  if (docker(['image', 'inspect', IMAGE]).code !== 0) return `image ${IMAGE} is missing (tools/docker/debian-image.sh builds it)`;
  return '';
}
const reason = why();
const skip = reason ? `SKIP (not a pass): ${reason}` : false;
if (skip) process.stderr.write(`\n*** debian.test.mjs: ${skip} ***\n\n`);

const names = [];
const uniq = (p) => {
  const n = `tsv-deb-${p}-${process.pid}-${names.length}`;
  names.push(n);
  return n;
};
after(() => {
  if (names.length) docker(['rm', '-f', ...names]);
  if (!skip) docker(['network', 'rm', NET]);
});

/** run is `docker run --rm --runtime=RUNTIME [opts] IMAGE cmd...`. */
const run = (opts, cmd, o) => docker(['run', '--rm', `--runtime=${RUNTIME}`, ...opts, IMAGE, ...cmd], o);
const bash = (script, opts = [], o) => run(opts, ['bash', '-c', script], o);

function waitFor(fn, ms = 20000) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (fn()) return true;
    spawnSync('sleep', ['0.3']);
  }
  return false;
}

function ipOf(name) {
  return docker(['inspect', '-f', '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}', name]).stdout.trim();
}

/** pty runs argv in a pseudo-terminal driven by steps (see pty_drive.py). */
function pty(argv, steps) {
  const r = sh(PY, [path.join(HERE, 'pty_drive.py'), ...argv, '--', ...steps], { timeout: 90000 });
  const m = /\nEXIT (\S+)\s*$/.exec(r.stdout);
  // Without the terminal's control sequences (prompt titles, bracketed paste, vi's screen).
  const out = r.stdout.replace(/\r/g, '').replace(/\x1b\][^\x07]*\x07|\x1b\[[0-9;?>=]*[a-zA-Z]|\x1b[=>]/g, '');
  return { out, exit: m ? m[1] : 'none' };
}

test('a login shell: id, ps, /proc, df, free, ulimit, packages', { skip }, () => {
  const r = bash('id; ps aux | wc -l; grep -c . /proc/1/status; df -h / | tail -1 | cut -d" " -f1; free -m | grep -c Mem; ulimit -n', ['-e', 'X=1'], {});
  assert.equal(r.code, 0, r.stderr);
  const l = r.stdout.split('\n');
  assert.equal(l[0], 'uid=0(root) gid=0(root) groups=0(root)');
  assert.ok(Number(l[1]) >= 3, r.stdout);
  assert.ok(Number(l[2]) > 10, r.stdout);
  assert.equal(l[4], '1');
  const p = bash('dpkg -l | grep -c "^ii"; apt list --installed 2>/dev/null | grep -c installed');
  assert.equal(p.code, 0, p.stderr);
  const [dpkg, apt] = p.stdout.trim().split('\n').map(Number);
  assert.ok(dpkg > 80 && dpkg === apt, p.stdout);
});

test('users and privilege drops: useradd, su, passwd -d, setpriv drops capabilities at exec', { skip }, () => {
  const r = bash([
    'useradd -m u && su - u -c "id; pwd"',
    'passwd -d u >/dev/null && grep "^u:" /etc/shadow | cut -d: -f2 | wc -c',
    // setpriv keeps capabilities across setresuid (PR_SET_KEEPCAPS), and execve must drop them.
    'setpriv --reuid=u --regid=u --clear-groups grep CapEff /proc/self/status',
    'setpriv --reuid=1000 --regid=1000 --clear-groups cat /etc/shadow >/dev/null 2>&1; echo shadow=$?',
    'su u -c "su -c id root </dev/null" >/dev/null 2>&1; echo su-root=$?',
  ].join('; '));
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, 'uid=1000(u) gid=1000(u) groups=1000(u)\n/home/u\n1\nCapEff:\t0000000000000000\nshadow=1\nsu-root=1\n');
});

test('dpkg -i of a .deb mounted from the host', { skip }, () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsv-deb-'));
  try {
    // A tiny package built in a first container, installed from the host directory by a second.
    const b = bash('mkdir -p /tmp/p/DEBIAN /tmp/p/usr/bin && printf "Package: tsvhello\\nVersion: 1.0\\nArchitecture: all\\nMaintainer: t <t@t>\\nDescription: t\\n" > /tmp/p/DEBIAN/control && printf "#!/bin/sh\\necho hello-from-deb\\n" > /tmp/p/usr/bin/tsvhello && chmod 755 /tmp/p/usr/bin/tsvhello && dpkg-deb -b /tmp/p /out/tsvhello.deb >/dev/null', ['-v', `${dir}:/out`]);
    assert.equal(b.code, 0, b.stderr);
    const r = bash('dpkg -i /debs/tsvhello.deb >/dev/null && tsvhello && dpkg -s tsvhello | grep Status && dpkg -r tsvhello >/dev/null && ! test -e /usr/bin/tsvhello', ['-v', `${dir}:/debs:ro`]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'hello-from-deb\nStatus: install ok installed\n');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('python3: venv, threads, multiprocessing (fork, spawn, forkserver), sqlite', { skip }, () => {
  const prog = `
import threading, multiprocessing as mp, sqlite3, concurrent.futures as cf
def sq(n): return n * n
if __name__ == "__main__":
    out = []
    ts = [threading.Thread(target=lambda i=i: out.append(sq(i))) for i in range(8)]
    [t.start() for t in ts]; [t.join() for t in ts]
    print("threads", sum(out))
    for m in ("fork", "spawn", "forkserver"):
        with mp.get_context(m).Pool(2) as p: print(m, sum(p.map(sq, range(10))))
    with cf.ProcessPoolExecutor(2) as ex: print("ppe", sum(ex.map(sq, range(5))))
    db = sqlite3.connect("/tmp/t.db"); db.execute("create table t(a)")
    db.executemany("insert into t values(?)", [(i,) for i in range(100)]); db.commit()
    print("sqlite", db.execute("select sum(a) from t").fetchone()[0])
`;
  const r = run(['-i'], ['bash', '-c', 'cat > /tmp/p.py && python3 -m venv /tmp/v && timeout 150 /tmp/v/bin/python /tmp/p.py'], { input: prog, timeout: 180000 });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, 'threads 140\nfork 285\nspawn 285\nforkserver 285\nppe 30\nsqlite 4950\n');
});

test('services on a bridge network: nginx from the host, redis from a second container, stop', { skip }, () => {
  docker(['network', 'create', NET]);
  const web = uniq('nginx');
  assert.equal(docker(['run', '-d', '--name', web, `--runtime=${RUNTIME}`, `--network=${NET}`, IMAGE, 'nginx', '-g', 'daemon off;']).code, 0);
  const wip = ipOf(web);
  assert.ok(wip, 'nginx has an address');
  // The host reaches the container's address directly (bridge, no NAT).
  let body = '';
  assert.ok(waitFor(() => (body = sh('curl', ['-sS', '-m', '5', `http://${wip}/`]).stdout).includes('nginx')), `curl ${wip}`);
  const kv = uniq('redis');
  assert.equal(docker(['run', '-d', '--name', kv, `--runtime=${RUNTIME}`, `--network=${NET}`, IMAGE,
    'redis-server', '--protected-mode', 'no', '--save', '']).code, 0);
  const rip = ipOf(kv);
  assert.ok(waitFor(() => docker(['logs', kv]).stdout.includes('Ready to accept')), 'redis starts');
  // redis-cli connects non-blocking and calls connect() again once the socket is writable.
  const c = run([`--network=${NET}`], ['bash', '-c', `redis-cli -h ${rip} ping && redis-cli -h ${rip} set k v && redis-cli -h ${rip} get k && curl -s -o /dev/null -w "%{http_code}\\n" http://${wip}/`]);
  assert.equal(c.code, 0, c.stderr);
  assert.equal(c.stdout, 'PONG\nOK\nv\n200\n');
  // nginx and redis handle SIGTERM: docker stop does not wait for its SIGKILL.
  for (const n of [web, kv]) {
    const t0 = Date.now();
    assert.equal(docker(['stop', '-t', '20', n]).code, 0);
    assert.ok(Date.now() - t0 < 15000, `${n} stops on SIGTERM`);
    assert.equal(docker(['inspect', '-f', '{{.State.ExitCode}}', n]).stdout.trim(), '0');
  }
});

test('docker run -it bash: job control, ^C, vi, login -f gets the terminal', { skip: skip || (!PY && 'no python3') }, () => {
  const r = pty(['docker', 'run', '--rm', '-it', `--runtime=${RUNTIME}`, IMAGE, 'bash'], [
    's:2', 'w:sleep 30; echo not-interrupted', 's:1', 'c', 'w:sleep 40', 's:1', 'z', 'w:jobs', 'w:kill %1',
    'w:vi /tmp/f', 's:1.5', 'w:ihello from vi', 'w:\x1b:wq', 's:1', 'w:cat /tmp/f',
    // login chowns its terminal to the user (fchown on the console fd).
    'w:useradd -m -s /bin/bash u; login -f u', 's:2', 'w:stat -c "tty-owner=%U" $(tty)', 'w:exit', 's:1', 'w:exit 5',
  ]);
  assert.equal(r.exit, '5', r.out);
  assert.doesNotMatch(r.out, /^not-interrupted$/m);
  assert.match(r.out, /Stopped\s+sleep 40/);
  assert.match(r.out, /\nhello from vi\n/);
  assert.doesNotMatch(r.out, /Unable to change owner or mode of tty/);
  assert.match(r.out, /tty-owner=u\n/);
});
