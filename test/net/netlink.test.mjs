// Netlink route sockets, interface ioctls and /proc/net inside the sandbox:
// busybox and iproute2 must see the sandbox's own stack (loopback only in
// --network=none), never the host's interfaces, and `ip` must change it.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const RUNSC = path.join(REPO, 'bin', 'runsc');
const IP = '/usr/sbin/ip';
const BB = '/bin/busybox';

function runsc(args, script) {
  const r = spawnSync(RUNSC, [...args, 'do', '/bin/sh', '-c', script], { encoding: 'utf8', timeout: 60000 });
  return { out: r.stdout, err: r.stderr, status: r.status };
}

/** Host interface names other than lo: none may show up inside. */
function hostLinks() {
  try {
    return fs.readFileSync('/proc/net/dev', 'utf8').split('\n').slice(2).map((l) => l.split(':')[0].trim())
      .filter((n) => n && n !== 'lo');
  } catch {
    return [];
  }
}

test('busybox ip addr/link/route show the sandbox loopback only', () => {
  const r = runsc(['--network=none'], `${BB} ip addr; echo ==; ${BB} ip -4 route; echo ==; ${BB} ip link`);
  assert.equal(r.status, 0, r.err);
  assert.match(r.out, /^1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536/m);
  assert.match(r.out, /inet 127\.0\.0\.1\/8 scope host lo/);
  assert.match(r.out, /inet6 ::1\/128 scope host/);
  assert.doesNotMatch(r.out, /^2: /m);
  for (const n of hostLinks()) assert.ok(!r.out.includes(` ${n}:`), `host link ${n} visible`);
  assert.equal(r.out.split('==\n')[1], '', 'IPv4 main table is empty with loopback only');
});

test('iproute2 adds and removes addresses and routes', { skip: !fs.existsSync(IP) && 'no iproute2' }, () => {
  const r = runsc(['--network=none'], [
    `${IP} addr add 10.9.8.7/24 dev lo`,
    `${IP} route add default via 10.9.8.1`,
    `${IP} -4 addr show dev lo`,
    'echo ==',
    `${IP} route`,
    'echo ==',
    `${IP} route get 1.1.1.1 | head -1`,
    `${IP} addr add 10.9.8.7/24 dev lo 2>&1`,
    `${IP} link add foo type dummy 2>&1`,
    `${IP} route del default && ${IP} addr del 10.9.8.7/24 dev lo && ${IP} -4 -o addr | wc -l`,
    `${IP} link set lo down && ${IP} -o link | grep -c '<LOOPBACK>'`,
    `${IP} link set lo up && ${IP} -o link | grep -c 'LOOPBACK,UP'`,
  ].join('; '));
  assert.equal(r.status, 0, r.err);
  const [addrs, routes, rest] = r.out.split('==\n');
  assert.match(addrs, /inet 127\.0\.0\.1\/8 scope host lo/);
  assert.match(addrs, /inet 10\.9\.8\.7\/24 scope global lo/);
  assert.equal(routes, 'default via 10.9.8.1 dev lo \n10.9.8.0/24 dev lo proto kernel scope link src 10.9.8.7 \n');
  const lines = rest.split('\n');
  assert.equal(lines[0].trim(), '1.1.1.1 via 10.9.8.1 dev lo src 10.9.8.7');
  assert.equal(lines[1], 'RTNETLINK answers: File exists');
  assert.equal(lines[2], 'RTNETLINK answers: Operation not supported');
  assert.deepEqual(lines.slice(3, 6), ['1', '1', '1']);
});

test('getifaddrs/if_nameindex and unsupported netlink families', () => {
  const code = [
    'import socket, errno',
    'print(socket.if_nameindex())',
    'try:',
    '  socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 9)',
    'except OSError as e: print(errno.errorcode[e.errno])',
    'try:',
    '  socket.socket(socket.AF_NETLINK, socket.SOCK_STREAM, 0)',
    'except OSError as e: print(errno.errorcode[e.errno])',
    's = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 15); s.bind((0, 1)); print(s.getsockname()[1] > 0)',
  ].join('\n');
  const r = runsc(['--network=none'], `/usr/bin/python3 -c '${code}'`);
  assert.equal(r.status, 0, r.err);
  assert.equal(r.out, "[(1, 'lo')]\nEPROTONOSUPPORT\nESOCKTNOSUPPORT\nTrue\n");
});

test('/proc/net describes the sandbox stack; ifconfig reads it', () => {
  const code = [
    'import socket',
    's = socket.socket(); s.bind(("127.0.0.1", 8089)); s.listen()',
    'u = socket.socket(socket.AF_UNIX); u.bind("\\0tsv-net-test"); u.listen()',
    'print(open("/proc/net/tcp").read().split("\\n")[1].split()[1:4])',
    'print([l.split()[-1] for l in open("/proc/self/net/unix").read().splitlines()[1:]])',
    'print(open("/proc/net/if_inet6").read().split())',
  ].join('\n');
  const r = runsc(['--network=none'], `/usr/bin/python3 -c '${code}'; ${BB} ifconfig lo | head -2`);
  assert.equal(r.status, 0, r.err);
  const l = r.out.split('\n');
  assert.equal(l[0], "['0100007F:1F99', '00000000:0000', '0A']");
  assert.equal(l[1], "['@tsv-net-test']");
  assert.equal(l[2], "['00000000000000000000000000000001', '01', '80', '10', '80', 'lo']");
  assert.match(l[3], /^lo\s+Link encap:Local Loopback/);
  assert.match(l[4], /inet addr:127\.0\.0\.1\s+Mask:255\.0\.0\.0/);
});
