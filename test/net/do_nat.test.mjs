// End to end, `runsc do --network=sandbox` past the host: the sandbox's
// traffic to a network beyond the host leaves masqueraded (boot/nat.ts), as
// with gVisor's `do`. The machine may have no internet: an "outside" network
// namespace, joined to the host by a veth pair with a subnet of its own, is
// made the route for a test prefix (not the default route). Its server sees
// the host's address on that link, never the sandbox's 10.x.N.2; the NAT
// rules exist while the sandbox runs and are gone after, including those a
// killed runsc leaves (the next `do` sweeps them). Needs root, iptables and
// /dev/net/tun; skipped otherwise.

import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const RUNSC = process.env.TSV_RUNSC_BIN ?? path.join(REPO, 'bin', 'runsc');
const BB = ['/bin/busybox', '/usr/bin/busybox'].find((p) => fs.existsSync(p));
const IP = ['/usr/sbin/ip', '/sbin/ip', '/usr/bin/ip', '/bin/ip'].find((p) => fs.existsSync(p));
const IPTABLES_SAVE = ['/usr/sbin/iptables-save', '/sbin/iptables-save'].find((p) => fs.existsSync(p));
const skip = process.getuid?.() !== 0 || !fs.existsSync('/dev/net/tun') ? 'needs root and /dev/net/tun'
  : !BB ? 'busybox is not installed' : !IP ? 'iproute2 is not installed'
  : !IPTABLES_SAVE ? 'iptables is not installed' : false;

// Names and subnets per run: parallel runs of the suite must not collide.
const TAG = process.pid % 100000;
const NS = `tsvout${TAG}`;
const HOST_IF = `tsvoh${TAG}`;
const X = 1 + (process.pid % 250);
const LINK = `10.215.${X}`; // the veth pair: host .1, outside .2
const FAR = `10.216.${X}`; // the prefix routed to the outside namespace; its server is .1
const SANDBOX = `10.217.${X}`; // the sandboxes' own addresses (--ip)
let server = null;

function ip(args, { check = true } = {}) {
  const r = spawnSync(IP, args, { encoding: 'utf8' });
  if (check && r.status !== 0) throw new Error(`ip ${args.join(' ')}: ${r.stderr}`);
  return r;
}

/** tsvisorRules lists the iptables rules (all tables) that mention addr. */
function tsvisorRules(addr) {
  const out = spawnSync(IPTABLES_SAVE, [], { encoding: 'utf8' }).stdout;
  return out.split('\n').filter((l) => l.includes('tsvisor-') && l.includes(`${addr}/32`));
}

function sleep(ms) {
  return new Promise((r) => setTimeout(r, ms));
}

before(async () => {
  if (skip) return;
  ip(['netns', 'add', NS]);
  ip(['link', 'add', HOST_IF, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', NS]);
  ip(['addr', 'add', `${LINK}.1/24`, 'dev', HOST_IF]);
  ip(['link', 'set', HOST_IF, 'up']);
  ip(['-n', NS, 'link', 'set', 'lo', 'up']);
  ip(['-n', NS, 'addr', 'add', `${LINK}.2/24`, 'dev', 'eth0']);
  ip(['-n', NS, 'addr', 'add', `${FAR}.1/32`, 'dev', 'lo']);
  ip(['-n', NS, 'link', 'set', 'eth0', 'up']);
  // No route back to the sandboxes' subnet: only a masqueraded source can be answered.
  ip(['route', 'add', `${FAR}.0/24`, 'via', `${LINK}.2`, 'dev', HOST_IF]);
  // An HTTP server in the outside namespace that answers with the peer's address.
  const js = `require('http').createServer((q, s) => s.end(q.socket.remoteAddress + '\\n')).listen(8080, '${FAR}.1', () => console.log('up'))`;
  server = spawn(IP, ['netns', 'exec', NS, process.execPath, '-e', js], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise((resolve, reject) => {
    server.stdout.once('data', resolve);
    server.once('exit', (c) => reject(new Error(`the outside server exited (${c})`)));
  });
});

after(() => {
  if (skip) return;
  server?.kill('SIGKILL');
  ip(['route', 'del', `${FAR}.0/24`], { check: false });
  ip(['netns', 'del', NS], { check: false });
  ip(['link', 'del', HOST_IF], { check: false });
});

test('the sandbox reaches a network past the host, masqueraded; the rules go with it', { skip, timeout: 60000 }, async () => {
  const addr = `${SANDBOX}.2`;
  // The guest waits on stdin after the fetch: the rules are checked while it runs.
  const c = spawn(RUNSC, ['do', `--ip=${addr}`, BB, 'sh', '-c', `${BB} timeout 10 ${BB} wget -q -O - http://${FAR}.1:8080/ && { read x; exit 0; }`],
    { stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  c.stderr.on('data', (d) => (err += d));
  const exited = new Promise((r) => c.on('exit', (code) => r(code)));
  try {
    await new Promise((resolve, reject) => {
      c.stdout.on('data', (d) => {
        out += d;
        if (out.includes('\n')) resolve();
      });
      c.on('exit', (code) => reject(new Error(`runsc exited (${code}) before answering: ${out} ${err}`)));
    });
    assert.equal(out, `${LINK}.1\n`, 'the outside server saw the host\'s address on its link');
    const rules = tsvisorRules(addr);
    assert.equal(rules.length, 3, rules.join('\n'));
    assert.ok(rules.some((l) => /-A POSTROUTING .*-j MASQUERADE/.test(l)), rules.join('\n'));
  } catch (e) {
    c.kill('SIGKILL');
    throw e;
  } finally {
    c.stdin.end();
  }
  assert.equal(await exited, 0, err);
  assert.deepEqual(tsvisorRules(addr), []);
});

test('a killed runsc leaves its rules; the next `do` removes them', { skip, timeout: 60000 }, async () => {
  const addr = `${SANDBOX}.3`;
  const c = spawn(RUNSC, ['do', `--ip=${addr}`, BB, 'sleep', '30'], { stdio: 'ignore' });
  const exited = new Promise((r) => c.on('exit', r));
  try {
    for (let i = 0; tsvisorRules(addr).length < 3; i++) {
      if (i > 100) throw new Error('no NAT rules for the sandbox');
      await sleep(100);
    }
  } finally {
    c.kill('SIGKILL');
  }
  await exited;
  // The sandbox dies with runsc, and its TAP with it; the rules stay.
  const hostEnd = () => Object.values(os.networkInterfaces()).flat().some((a) => a.address === `${SANDBOX}.1`);
  for (let i = 0; i < 50 && hostEnd(); i++) await sleep(100);
  assert.equal(hostEnd(), false, 'the TAP outlived the sandbox');
  // (Unless a sandbox started meanwhile, by a test running alongside, swept them already.)
  const r = spawnSync(RUNSC, ['do', BB, 'true'], { encoding: 'utf8', timeout: 30000 });
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(tsvisorRules(addr), []);
});

test('with another root, the guest gets the host\'s resolvers, and the root\'s files are not written', { skip, timeout: 60000 }, () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'tsv-natroot-'));
  try {
    for (const d of ['bin', 'etc', 'run']) fs.mkdirSync(path.join(root, d));
    fs.copyFileSync(BB, path.join(root, 'bin', 'busybox'));
    fs.chmodSync(path.join(root, 'bin', 'busybox'), 0o755);
    // As with systemd-resolved: a symlink to a stub resolver's file. It is replaced, not followed.
    fs.writeFileSync(path.join(root, 'run', 'stub-resolv.conf'), 'nameserver 127.0.0.53\n');
    fs.symlinkSync('../run/stub-resolv.conf', path.join(root, 'etc', 'resolv.conf'));
    const r = spawnSync(RUNSC, ['do', `--root=${root}`, '--cwd=/', '/bin/busybox', 'sh', '-c',
      '/bin/busybox cat /etc/resolv.conf; echo ---; /bin/busybox cat /run/stub-resolv.conf'], { encoding: 'utf8', timeout: 30000 });
    assert.equal(r.status, 0, r.stderr);
    const [guest, stub] = r.stdout.split('---\n');
    const servers = (t) => t.split('\n').filter((l) => /^nameserver \d+\.\d+\.\d+\.\d+$/.test(l) && !l.includes(' 127.'));
    const host = servers(fs.readFileSync('/etc/resolv.conf', 'utf8'));
    if (host.length > 0) assert.deepEqual(servers(guest), host);
    assert.ok(servers(guest).length > 0, guest);
    assert.ok(!guest.includes('127.0.0.53'), guest);
    assert.equal(stub, 'nameserver 127.0.0.53\n');
    // The root's files are as they were: the guest's are in its in-memory layer.
    assert.equal(fs.readlinkSync(path.join(root, 'etc', 'resolv.conf')), '../run/stub-resolv.conf');
    assert.equal(fs.readFileSync(path.join(root, 'run', 'stub-resolv.conf'), 'utf8'), 'nameserver 127.0.0.53\n');
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});
