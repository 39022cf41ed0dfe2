// End to end: iproute2's `ss` inside the sandbox reads the sandbox's own
// sockets through NETLINK_SOCK_DIAG (not /proc/net, which it only falls back
// to): TCP listeners and connections with their owning process, UDP, Unix
// sockets, filters and the summary (with /proc/net/sockstat). With
// --network=host the guest's inet sockets are host sockets, which sock_diag
// does not list: no host socket may show up.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import { test } from 'node:test';
import { run } from './runsc.mjs';

const SS = '/usr/bin/ss';
const PY = '/usr/bin/python3';
const skip = (!fs.existsSync(SS) && 'needs iproute2 ss') || (!fs.existsSync(PY) && 'needs python3');


// A python program holding sockets open while ss runs as its child.
const PROG = `
import socket, subprocess, sys
l = socket.socket(); l.bind(("127.0.0.1", 8089)); l.listen(16)
c = socket.create_connection(("127.0.0.1", 8089)); a, _ = l.accept(); c.send(b"12345")
l6 = socket.socket(socket.AF_INET6); l6.bind(("::1", 9099)); l6.listen()
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.bind(("127.0.0.1", 5399))
x = socket.socket(socket.AF_UNIX); x.bind("\\0tsv-ss-test"); x.listen()
xc = socket.socket(socket.AF_UNIX); xc.connect("\\0tsv-ss-test"); xa, _ = x.accept()
for cmd in sys.argv[1:]:
    print("== " + cmd, flush=True)
    subprocess.run(cmd, shell=True, stderr=subprocess.STDOUT)
`;

function sections(out) {
  const m = new Map();
  for (const part of out.split('== ').slice(1)) {
    const nl = part.indexOf('\n');
    m.set(part.slice(0, nl), part.slice(nl + 1));
  }
  return m;
}

test('ss lists the sandbox sockets through sock_diag', { skip }, async () => {
  const cmds = ['ss -tln', 'ss -tlnp', 'ss -tan', 'ss -uan', 'ss -xa', 'ss -tn sport = :8089', 'ss -tni state established',
    'ss -x', 'ss -s'];
  const r = await run(['--network=none', 'do', PY, '-c', PROG, ...cmds]);
  assert.equal(r.code, 0, r.err + r.out);
  const s = sections(r.out);
  const tln = s.get('ss -tln');
  assert.doesNotMatch(tln, /Cannot open netlink socket/);
  assert.match(tln, /^LISTEN\s+0\s+16\s+127\.0\.0\.1:8089\s+0\.0\.0\.0:\*/m);
  assert.match(tln, /^LISTEN\s+0\s+128\s+\[::1\]:9099\s+\[::\]:\*/m);
  assert.doesNotMatch(tln, /ESTAB/);
  // -p maps inode numbers through /proc/PID/fd.
  assert.match(s.get('ss -tlnp'), /127\.0\.0\.1:8089\s+0\.0\.0\.0:\*\s+users:\(\("python3",pid=\d+,fd=3\)\)/);
  const tan = s.get('ss -tan');
  assert.match(tan, /^ESTAB\s+5\s+0\s+127\.0\.0\.1:8089\s+127\.0\.0\.1:\d+/m, 'the unread bytes are Recv-Q');
  assert.match(tan, /^ESTAB\s+0\s+0\s+127\.0\.0\.1:\d+\s+127\.0\.0\.1:8089/m);
  assert.match(s.get('ss -uan'), /^UNCONN\s+0\s+0\s+127\.0\.0\.1:5399\s+0\.0\.0\.0:\*/m);
  const xa = s.get('ss -xa');
  assert.match(xa, /^u_str\s+LISTEN\s+0\s+128\s+@tsv-ss-test \d+\s+\* 0/m);
  assert.match(xa, /^u_str\s+ESTAB\s+0\s+0\s+@tsv-ss-test \d+\s+\* \d+/m);
  assert.doesNotMatch(s.get('ss -x'), /LISTEN/, 'without -a, listeners are left out');
  // A filter: only the sockets whose source port is 8089 (the listener is not established).
  const f = s.get('ss -tn sport = :8089').trim().split('\n');
  assert.equal(f.length, 2, f.join('\n'));
  assert.match(f[1], /^ESTAB\s+5\s+0\s+127\.0\.0\.1:8089\s/);
  assert.match(s.get('ss -tni state established'), /\breno\b.*\bmss:\d+/);
  // The summary reads /proc/net/sockstat{,6} and counts established sockets over sock_diag.
  const sum = s.get('ss -s');
  assert.doesNotMatch(sum, /get_sockstat/);
  assert.match(sum, /^TCP:\s+4 \(estab 2, closed 0, orphaned 0, timewait 0\)/m);
  assert.match(sum, /^TCP\s+4\s+3\s+1\s*$/m);
});

test('--network=host: sock_diag lists no host sockets', { skip }, async () => {
  const srv = net.createServer();
  await new Promise((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const port = srv.address().port;
  try {
    const r = await run(['--network=host', 'do', '/bin/sh', '-c', 'ss -tln; echo rc=$?']);
    assert.match(r.out, /rc=0/, r.err);
    assert.ok(!r.out.includes(`:${port} `), `host listener ${port} visible:\n${r.out}`);
  } finally {
    srv.close();
  }
});
