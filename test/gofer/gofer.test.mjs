// Integration test of the Gofer process (needs root for chroot and mknod, and
// a build): spawns real Gofers over a scratch tree and checks that every
// escape is refused with the right errno, that opens hand over working fds,
// and that a dead Gofer makes calls fail with EIO instead of hanging.
//
//   npx tsc -p . && node --test test/gofer/

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const dist = (p) => import(path.join(REPO, 'dist', p));
const { GoferProcess, startGofers } = await dist('gofer/launcher.js');
const { GoferHostFS } = await dist('sentry/fsimpl/gofer/gofer_fs.js');
const { GoferClient } = await dist('sentry/fsimpl/gofer/client.js');
const { OP } = await dist('gofer/protocol.js');
const { native } = await dist('platform/ptrace/native.js');
const linuxerr = await dist('abi/linux/errno.js');

const skip = process.getuid() !== 0 ? 'needs root (chroot, mknod)' : false;
const tmp = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'gofer-it-')));
const root = path.join(tmp, 'root');
const vol = path.join(tmp, 'vol');
const O_RDONLY = 0, O_WRONLY = 1, O_CREAT = 0o100, O_EXCL = 0o200;
const procs = [];
const servers = [];
after(() => {
  for (const p of procs) p.stop();
  for (const s of servers) s.close();
  fs.rmSync(tmp, { recursive: true, force: true });
});

if (!skip) {
  fs.mkdirSync(path.join(root, 'dir'), { recursive: true });
  fs.mkdirSync(vol);
  fs.writeFileSync(path.join(root, 'hello'), 'hello from the container\n');
  fs.writeFileSync(path.join(tmp, 'secret'), 'outside\n');
  fs.symlinkSync('/', path.join(root, 'up'));
  fs.symlinkSync('../../secret', path.join(root, 'dir', 'rel'));
  fs.symlinkSync('/etc/passwd', path.join(root, 'passwd'));
  spawnSync('mknod', [path.join(root, 'null'), 'c', '1', '3']);
  spawnSync('mknod', [path.join(root, 'sda'), 'b', '8', '0']);
  spawnSync('mkfifo', [path.join(root, 'fifo')]);
  const srv = net.createServer().listen(path.join(root, 'sock'));
  await new Promise((r) => srv.once('listening', r));
  servers.push(srv);
}

const is = (err) => (e) => e === err;

test('the Gofer is confined to its root and serves its files', { skip }, () => {
  const p = GoferProcess.start({ root, readonly: true });
  procs.push(p);
  assert.deepEqual(p.client.version(), { readonly: true, devices: false });
  // Its root (and cwd) is the tree, seen from its own mount namespace as "/".
  assert.equal(fs.readlinkSync(`/proc/${p.pid}/root`), '/');
  assert.equal(fs.readlinkSync(`/proc/${p.pid}/cwd`), '/');
  assert.deepEqual(fs.readdirSync(`/proc/${p.pid}/root`).sort(), fs.readdirSync(root).sort());
  const h = new GoferHostFS([{ hostPath: root, client: p.client }]);
  const fd = h.open(path.join(root, 'hello'), O_RDONLY);
  const buf = new Uint8Array(100);
  const n = h.pread(fd, buf, 0);
  assert.equal(Buffer.from(buf.subarray(0, n)).toString(), 'hello from the container\n');
  assert.equal(h.fstat(fd).size, n);
  h.close(fd);
  const names = h.readdir(root).map((d) => d.name).sort();
  assert.deepEqual(names, ['dir', 'fifo', 'hello', 'null', 'passwd', 'sda', 'sock', 'up']);
  assert.equal(h.readlink(path.join(root, 'up')), '/');
  assert.equal(h.lstat(path.join(root, 'hello')).ino, fs.lstatSync(path.join(root, 'hello'), { bigint: true }).ino);
  assert.ok(h.statfs(root).bsize > 0);
});

test('every escape is refused with the right errno', { skip }, () => {
  const p = GoferProcess.start({ root, readonly: false });
  procs.push(p);
  const h = new GoferHostFS([{ hostPath: root, client: p.client }]);
  const r = (x) => path.join(root, x);
  // Symlinks are never followed, as intermediate or final components.
  assert.throws(() => h.open(r('up/etc/passwd'), O_RDONLY), is(linuxerr.ELOOP));
  assert.throws(() => h.lstat(r('up/etc')), is(linuxerr.ELOOP));
  assert.throws(() => h.open(r('dir/rel'), O_RDONLY), is(linuxerr.ELOOP));
  assert.throws(() => h.open(r('passwd'), O_RDONLY), is(linuxerr.ELOOP));
  assert.throws(() => h.readdir(r('up')), is(linuxerr.ELOOP));
  assert.throws(() => h.mkdir(r('up/tmp/escaped'), 0o755), is(linuxerr.ELOOP));
  assert.throws(() => h.link(r('up/etc/passwd'), r('stolen')), is(linuxerr.ELOOP));
  assert.throws(() => h.chmod(r('passwd'), 0o777), is(linuxerr.EOPNOTSUPP));
  assert.throws(() => h.truncate(r('passwd'), 0), is(linuxerr.ELOOP));
  // The client refuses paths outside its mounts before asking.
  assert.throws(() => h.open(path.join(tmp, 'secret'), O_RDONLY), is(linuxerr.EACCES));
  assert.throws(() => h.lstat('/etc/passwd'), is(linuxerr.EACCES));
  // And the Gofer refuses malformed paths a broken Sentry might send.
  for (const bad of ['..', '../secret', 'dir/../../secret', '/etc/passwd', 'dir//x', './hello', 'a\0b']) {
    assert.throws(() => p.client.rpc(OP.OPEN, [O_RDONLY, 0], [bad]), is(linuxerr.EINVAL), bad);
  }
  assert.throws(() => p.client.rpc(OP.OPEN, [0o10000000 /* O_PATH */, 0], ['hello']), is(linuxerr.EINVAL));
  // No I/O on device nodes, FIFOs or sockets.
  assert.throws(() => h.open(r('null'), 2), is(linuxerr.EACCES));
  assert.throws(() => h.open(r('sda'), O_RDONLY), is(linuxerr.EACCES));
  assert.throws(() => h.open(r('fifo'), O_RDONLY), is(linuxerr.ENXIO));
  assert.throws(() => h.open(r('sock'), O_RDONLY), is(linuxerr.ENXIO));
  assert.equal(fs.readFileSync('/etc/passwd', 'utf8').length > 0, true);
  assert.equal(fs.existsSync(r('stolen')), false);
  assert.equal(fs.readFileSync(path.join(tmp, 'secret'), 'utf8'), 'outside\n');
  // The connection survived all of that.
  assert.equal(h.lstat(r('hello')).size, 25);
});

test('startGofers: read-only root, read-write volume, one process each', { skip }, () => {
  const warnings = [];
  const g = startGofers(root, [{ hostPath: vol, guestPath: '/data', readonly: false }], (m) => warnings.push(m));
  try {
    assert.equal(g.procs.length, 2);
    assert.equal(g.hostRoot, root);
    // Each Gofer's root is its tree (pivot_root in a mount namespace of its
    // own): what its / holds is what the tree holds, and it is confined.
    const [rp, vp] = [g.procs.find((p) => p.root === root), g.procs.find((p) => p.root === vol)];
    assert.equal(fs.readFileSync(`/proc/${rp.pid}/root/hello`, 'utf8'), fs.readFileSync(path.join(root, 'hello'), 'utf8'));
    assert.deepEqual(fs.readdirSync(`/proc/${vp.pid}/root`).sort(), fs.readdirSync(vol).sort());
    for (const p of g.procs) {
      const status = fs.readFileSync(`/proc/${p.pid}/status`, 'utf8');
      assert.match(status, /^Seccomp:\s+2$/m);
      assert.match(status, /^NoNewPrivs:\s+1$/m);
      for (const ns of ['mnt', 'user', 'pid', 'net', 'ipc', 'uts']) {
        assert.notEqual(fs.readlinkSync(`/proc/${p.pid}/ns/${ns}`), fs.readlinkSync(`/proc/self/ns/${ns}`), ns);
      }
    }
    const h = g.host;
    assert.throws(() => h.mkdir(path.join(root, 'x'), 0o755), is(linuxerr.EROFS));
    assert.throws(() => h.open(path.join(root, 'hello'), O_WRONLY), is(linuxerr.EROFS));
    const fd = h.open(path.join(vol, 'f'), O_CREAT | O_EXCL | O_WRONLY, 0o644);
    assert.equal(h.pwrite(fd, Buffer.from('ok\n'), 0), 3);
    h.close(fd);
    assert.equal(fs.readFileSync(path.join(vol, 'f'), 'utf8'), 'ok\n');
    h.mkdir(path.join(vol, 'd'), 0o700);
    h.rename(path.join(vol, 'f'), path.join(vol, 'd', 'g'));
    h.symlink('../../..', path.join(vol, 'd', 'l'));
    assert.deepEqual(fs.readdirSync(path.join(vol, 'd')).sort(), ['g', 'l']);
    assert.throws(() => h.rename(path.join(vol, 'd', 'g'), path.join(root, 'g')), is(linuxerr.EXDEV));
    assert.throws(() => h.lstat(path.join(vol, 'd', 'l', 'secret')), is(linuxerr.ELOOP));
  } finally {
    g.stop();
  }
  assert.deepEqual(warnings, []);
});

test('a dead Gofer makes calls fail with EIO, promptly', { skip }, () => {
  const deaths = [];
  const p = GoferProcess.start({ root, readonly: true }, (why) => deaths.push(why));
  const h = new GoferHostFS([{ hostPath: root, client: p.client }]);
  assert.equal(h.lstat(root).mode & 0o170000, 0o040000);
  process.kill(p.pid, 'SIGKILL');
  const t0 = Date.now();
  assert.throws(() => h.lstat(path.join(root, 'hello')), is(linuxerr.EIO));
  assert.throws(() => h.readdir(root), is(linuxerr.EIO));
  assert.ok(Date.now() - t0 < 5000);
  assert.equal(deaths.length, 1);
  assert.equal(p.stop() & 0x7f, 9, 'reaped, killed by SIGKILL');
});

test('stop hangs up and reaps a Gofer that exits cleanly', { skip }, () => {
  const p = GoferProcess.start({ root, readonly: true });
  p.client.version();
  assert.equal(p.stop(), 0);
  assert.throws(() => fs.statSync(`/proc/${p.pid}/status`));
});

test('`runsc gofer` serves the same protocol, and refuses to run unconfined', { skip }, () => {
  const pair = new Int32Array(2);
  assert.equal(native.socketpair(1, 5 | 0o2000000, pair), 0);
  const main = path.join(REPO, 'dist/runsc/main.js');
  const pid = native.spawn(process.execPath, [process.execPath, main, 'gofer', '--root', root, '--fd', '3', '--ro'], [],
    new Int32Array([-1, -1, 2, pair[1]]), 1);
  fs.closeSync(pair[1]);
  assert.ok(pid > 0);
  const c = new GoferClient(pair[0], root);
  assert.equal(c.version().readonly, true);
  c.close();
  const st = new Int32Array(1);
  assert.equal(native.waitpid(pid, 0, st), pid);
  assert.equal(st[0], 0);
  // A root that cannot be chrooted to: the Gofer exits instead of serving.
  const bad = GoferProcess.start({ root: path.join(root, 'hello'), readonly: true });
  assert.throws(() => bad.client.version(), is(linuxerr.EIO));
  assert.equal((bad.stop() >> 8) & 0xff, 1);
});
