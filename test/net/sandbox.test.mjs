// End to end, --network=sandbox: a server in the sandbox reached from the
// host through the sandbox's link, and a host server reached from inside.
// Needs host root (the link is a TAP device runsc makes); skipped otherwise.

import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const RUNSC = process.env.TSV_RUNSC_BIN ?? path.join(REPO, 'bin', 'runsc');
const BB = '/bin/busybox';
const root = process.getuid?.() === 0 && fs.existsSync('/dev/net/tun');
/** wired reports whether this runsc gives `do` a link (until the launcher calls network.ts, it does not). */
function wired() {
  const r = spawnSync(RUNSC, ['do', BB, 'ip', '-o', 'link'], { encoding: 'utf8', timeout: 30000 });
  return r.status === 0 && / eth0: /.test(r.stdout);
}
const skip = !root ? 'needs root and /dev/net/tun' : !wired() && 'runsc do has no --network=sandbox link (launcher not wired to boot/network.ts)';
// A subnet per run: parallel runs of the suite must not collide.
const NET = `10.213.${1 + (process.pid % 250)}`;

function sleep(ms) {
  return new Promise((r) => setTimeout(r, ms));
}

/** linkUp waits until runsc has given the host end of the link its address
 *  (before that, the sandbox's address routes elsewhere). */
async function linkUp(addr) {
  for (let i = 0; i < 100; i++) {
    if (Object.values(os.networkInterfaces()).flat().some((a) => a.address === addr)) return;
    await sleep(100);
  }
  throw new Error(`no host interface got ${addr}`);
}

/** get fetches url from the host, retrying while the sandbox starts. */
async function get(url, tries = 40) {
  for (let i = 0; ; i++) {
    try {
      return await new Promise((resolve, reject) => {
        const req = http.get(url, { timeout: 2000 }, (res) => {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (d) => (body += d));
          res.on('end', () => resolve({ status: res.statusCode, body }));
        });
        req.on('error', reject);
        req.on('timeout', () => req.destroy(new Error('timeout')));
      });
    } catch (e) {
      if (i >= tries) throw e;
      await sleep(250);
    }
  }
}

test('a server in the sandbox serves the host', { skip, timeout: 60000 }, async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsv-net-'));
  fs.chmodSync(dir, 0o755);
  fs.writeFileSync(path.join(dir, 'index.html'), 'served from the sandbox\n');
  const child = spawn(RUNSC, ['do', `--ip=${NET}.2`, BB, 'httpd', '-f', '-p', '8000', '-h', dir], { stdio: 'ignore' });
  try {
    await linkUp(`${NET}.1`);
    const r = await get(`http://${NET}.2:8000/index.html`);
    assert.equal(r.status, 200);
    assert.equal(r.body, 'served from the sandbox\n');
  } finally {
    child.kill('SIGKILL');
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('the sandbox reaches a host server; ip addr shows eth0', { skip, timeout: 60000 }, async () => {
  const server = http.createServer((req, res) => res.end(`hello ${req.url}\n`));
  await new Promise((r) => server.listen(0, '0.0.0.0', r));
  const port = server.address().port;
  try {
    const script = `${BB} ip -4 addr show eth0 | ${BB} grep -o 'inet [0-9./]*'; ${BB} ip route | ${BB} head -1; ` +
      `${BB} wget -q -O - http://${NET}.1:${port}/from-sandbox`;
    const r = await new Promise((resolve) => {
      const c = spawn(RUNSC, ['do', `--ip=${NET}.2`, '/bin/sh', '-c', script], { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      c.stdout.on('data', (d) => (out += d));
      c.stderr.on('data', (d) => (err += d));
      c.on('exit', (status) => resolve({ status, out, err }));
    });
    assert.equal(r.status, 0, r.err);
    assert.equal(r.out, `inet ${NET}.2/24\ndefault via ${NET}.1 dev eth0 \nhello /from-sandbox\n`);
  } finally {
    server.close();
  }
});

test('--network=none has loopback only', () => {
  const r = spawnSync(RUNSC, ['--network=none', 'do', BB, 'ip', '-o', 'link'], { encoding: 'utf8', timeout: 30000 });
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(r.stdout.trim().split('\n').map((l) => l.split(':')[1].trim()), ['lo']);
});

test('--network=none and host see the host\'s /etc files; with a link, only what would not serve changes', { skip, timeout: 60000 }, () => {
  const show = (global, extra = []) => spawnSync(RUNSC, [...global, 'do', ...extra, BB, 'cat', '/etc/hosts', '/etc/resolv.conf'], { encoding: 'utf8', timeout: 30000 });
  const hosts = fs.readFileSync('/etc/hosts', 'utf8');
  const resolv = fs.readFileSync('/etc/resolv.conf', 'utf8');
  for (const net of ['none', 'host']) {
    const r = show([`--network=${net}`]);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, hosts + resolv, `--network=${net}`);
  }
  const linked = show([], [`--ip=${NET}.2`]);
  assert.equal(linked.status, 0, linked.stderr);
  assert.doesNotMatch(linked.stdout, /^nameserver (127\.|::1)/m, 'a resolver the sandbox cannot reach');
  const reachable = (t) => t.split('\n').filter((l) => /^nameserver \d+\.\d+\.\d+\.\d+$/.test(l) && !l.includes(' 127.'));
  const ownName = hosts.split('\n').some((l) => !/^\s*(127\.|::1|#)/.test(l) && l.split(/\s+/).slice(1).includes(os.hostname()));
  // On a host whose files serve the sandbox as they are, they are the host's (and /etc is not copied up).
  const allReachable = reachable(resolv).length > 0 && reachable(resolv).length === resolv.split('\n').filter((l) => /^\s*nameserver\s/.test(l)).length;
  if (allReachable && !ownName) {
    assert.equal(linked.stdout, hosts + resolv);
  }
  // The host's own files were not touched.
  assert.equal(fs.readFileSync('/etc/hosts', 'utf8') + fs.readFileSync('/etc/resolv.conf', 'utf8'), hosts + resolv);
});
