// Python programs using AF_UNIX sockets, run natively and under ./bin/runsc do:
// their outputs must match. Needs a build (npx tsc -p .) and python3.
//
//   node --test test/sockets/python_unix.test.mjs

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const RUNSC = path.join(REPO, 'bin', 'runsc');
const PY = '/usr/bin/python3';
const skip = !fs.existsSync(PY) ? 'python3 is not installed' : false;

/** both runs code natively and sandboxed; returns both outputs. */
function both(code) {
  const opts = { encoding: 'utf8', timeout: 120000, cwd: '/tmp' };
  const n = spawnSync(PY, ['-c', code], opts);
  const s = spawnSync(RUNSC, ['do', PY, '-c', code], opts);
  return { native: n.stdout, sandbox: s.stdout, nativeStatus: n.status, sandboxStatus: s.status, stderr: s.stderr };
}

function same(code) {
  const r = both(code);
  assert.equal(r.nativeStatus, 0, 'native run failed');
  assert.equal(r.sandbox, r.native, r.stderr);
  assert.equal(r.sandboxStatus, 0);
  return r;
}

test('socketpair: 32 MB through a thread', { skip }, () => {
  const r = same(`
import socket, threading, time
N = 32 << 20
a, b = socket.socketpair()
chunk = b'x' * (1 << 20)
def writer():
    for _ in range(N // len(chunk)): a.sendall(chunk)
    a.shutdown(socket.SHUT_WR)
t0 = time.time()
th = threading.Thread(target=writer); th.start()
got = 0
while True:
    d = b.recv(1 << 16)
    if not d: break
    got += len(d)
th.join()
import sys; print("MB/s %.0f" % (got / (time.time() - t0) / 1e6), file=sys.stderr)
print(got == N)
`);
  assert.equal(r.sandbox.trim(), 'True');
});

test('socketserver.UnixStreamServer, plain and threading, in a thread', { skip }, () => {
  same(`
import os, socket, socketserver, tempfile, threading
path = os.path.join(tempfile.mkdtemp(), "srv.sock")
class H(socketserver.StreamRequestHandler):
    def handle(self):
        for line in self.rfile: self.wfile.write(line.upper())
srv = socketserver.UnixStreamServer(path, H)
threading.Thread(target=srv.serve_forever, daemon=True).start()
for i in range(3):
    c = socket.socket(socket.AF_UNIX); c.connect(path)
    f = c.makefile("rwb"); f.write(b"hello %d\\n" % i); f.flush()
    print(f.readline().decode().strip()); f.close(); c.close()
srv.shutdown(); srv.server_close(); os.unlink(path)
class TS(socketserver.ThreadingMixIn, socketserver.UnixStreamServer): pass
srv = TS(path, H)
threading.Thread(target=srv.serve_forever, daemon=True).start()
cs = [socket.socket(socket.AF_UNIX) for _ in range(5)]
for c in cs: c.connect(path)
for i, c in enumerate(cs): c.sendall(b"client %d\\n" % i)
print(sorted(c.recv(100).decode().strip() for c in cs))
for c in cs: c.close()
srv.shutdown(); srv.server_close()
`);
});

test('datagram sockets: pathname, abstract and socketpair', { skip }, () => {
  same(`
import os, socket, tempfile
d = tempfile.mkdtemp()
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM); s.bind(os.path.join(d, "dg.sock"))
c = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM); c.bind(os.path.join(d, "cl.sock"))
c.sendto(b"ping", os.path.join(d, "dg.sock"))
data, addr = s.recvfrom(100); print(data, os.path.basename(addr))
s.sendto(b"pong", addr); print(c.recv(100))
a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_DGRAM)
a.send(b"m1"); a.send(b"m2"); print(b.recv(1), b.recv(10))
s2 = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM); s2.bind("\\0tsv-py-abstract")
c.sendto(b"abs", "\\0tsv-py-abstract"); m, ad = s2.recvfrom(10); print(m, os.path.basename(ad))
a.settimeout(0.2)
try: a.recv(10); print("no timeout")
except socket.timeout: print("timeout")
`);
});

test('send_fds/recv_fds pass a pipe and an open file', { skip }, () => {
  same(`
import os, socket, tempfile
p = os.path.join(tempfile.mkdtemp(), "f.txt")
open(p, "w").write("file contents")
a, b = socket.socketpair()
r, w = os.pipe()
f = open(p)
socket.send_fds(a, [b"fds"], [r, f.fileno()])
os.close(r); f.close()
msg, fds, flags, addr = socket.recv_fds(b, 100, 4)
print(msg, len(fds), flags)
os.write(w, b"via passed pipe")
print(os.read(fds[0], 100), os.read(fds[1], 100))
`);
});
