// VFS tests over a temporary host directory: path walking (.., symlinks,
// ELOOP, mount crossing), overlay copy-up, whiteouts and merged readdir,
// tmpfs semantics and permission checks. The caller is a plain object.

import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as linuxerr from '../../abi/linux/errno.js';
import * as linux from '../../abi/linux/file.js';
import { Credentials } from '../kernel/creds.js';
import { FDTable } from '../kernel/fd_table.js';
import type { FileDescription } from './file_description.js';
import { FSContext } from './fs_context.js';
import { DirectoryImpl } from './impls.js';
import type { Caller } from './inode.js';
import type { VFS } from './vfs.js';
import { newSandboxVFS } from './vfs.js';
import { RESOLVE_BENEATH, RESOLVE_IN_ROOT, RESOLVE_NO_SYMLINKS } from './resolve.js';

const AT = linux.AT_FDCWD;
let host: string;
let vfs: VFS;
const vol = fs.mkdtempSync(path.join(os.tmpdir(), 'vfs-vol-'));

function caller(uid = 0): Caller {
  const creds = new Credentials();
  if (uid !== 0) {
    creds.uid = creds.euid = creds.suid = creds.fsuid = uid;
    creds.gid = creds.egid = creds.sgid = creds.fsgid = uid;
    creds.capEffective = creds.capPermitted = 0n;
  }
  const c = { fs: new FSContext(), creds, fdTable: new FDTable() };
  vfs.initFSContext(c.fs, '/');
  return c;
}

function readAll(f: FileDescription): string {
  const buf = new Uint8Array(4096);
  const n = f.read(buf, 0);
  return Buffer.from(buf.subarray(0, n)).toString();
}

function names(c: Caller, p: string): string[] {
  const f = vfs.openAt(c, AT, p, linux.O_RDONLY | linux.O_DIRECTORY, 0);
  try {
    return (f.impl as DirectoryImpl).readdir().map((e) => e.name).filter((n) => n !== '.' && n !== '..').sort();
  } finally {
    f.decRef();
  }
}

before(() => {
  host = fs.mkdtempSync(path.join(os.tmpdir(), 'vfs-test-'));
  fs.chmodSync(host, 0o755);
  fs.writeFileSync(path.join(host, 'a.txt'), 'lower a\n');
  fs.mkdirSync(path.join(host, 'd'));
  fs.writeFileSync(path.join(host, 'd/f'), 'lower f\n');
  fs.writeFileSync(path.join(host, 'd/g'), 'lower g\n');
  fs.mkdirSync(path.join(host, 'd/sub'));
  fs.writeFileSync(path.join(host, 'd/sub/x'), 'x\n');
  fs.symlinkSync('/d/f', path.join(host, 'link-abs'));
  fs.symlinkSync('d/f', path.join(host, 'link-rel'));
  fs.symlinkSync('/etc/passwd', path.join(host, 'abs-etc'));
  fs.symlinkSync('../../../../../etc/passwd', path.join(host, 'escape'));
  fs.symlinkSync('loop2', path.join(host, 'loop1'));
  fs.symlinkSync('loop1', path.join(host, 'loop2'));
  fs.symlinkSync('d', path.join(host, 'dlink'));
  // chain0 -> chain1 -> ... -> chain40 -> a.txt: 41 links; chain1 needs 40.
  for (let i = 0; i <= 40; i++) fs.symlinkSync(i === 40 ? 'a.txt' : `chain${i + 1}`, path.join(host, `chain${i}`));
  fs.mkdirSync(path.join(host, 'vol-ro'));
  fs.mkdirSync(path.join(host, 'vol-rw'));
  fs.mkdirSync(path.join(vol, 'sub'), { recursive: true });
  fs.writeFileSync(path.join(vol, 'sub/h'), 'host h\n');
  vfs = newSandboxVFS({
    hostRoot: host,
    volumes: [
      { hostPath: vol, guestPath: '/vol-ro', readonly: true },
      { hostPath: vol, guestPath: '/vol-rw', readonly: false },
      { hostPath: vol, guestPath: '/new/mount/point', readonly: true },
    ],
  });
});

after(() => {
  fs.rmSync(host, { recursive: true, force: true });
  fs.rmSync(vol, { recursive: true, force: true });
});

describe('path walk', () => {
  it('resolves . and .., clamping at the root', () => {
    const c = caller();
    const f = vfs.statAt(c, AT, '/d/f', 0);
    assert.equal(vfs.statAt(c, AT, '/d/./sub/../f', 0).ino, f.ino);
    assert.equal(vfs.statAt(c, AT, '/../../d/f', 0).ino, f.ino);
    assert.equal(vfs.statAt(c, AT, 'd//f', 0).ino, f.ino);
    assert.equal(vfs.statAt(c, AT, '/..', 0).ino, vfs.statAt(c, AT, '/', 0).ino);
  });

  it('reports ENOENT, ENOTDIR and ENAMETOOLONG', () => {
    const c = caller();
    assert.throws(() => vfs.statAt(c, AT, '/nope', 0), linuxerr.ENOENT);
    assert.throws(() => vfs.statAt(c, AT, '', 0), linuxerr.ENOENT);
    assert.throws(() => vfs.statAt(c, AT, '/a.txt/', 0), linuxerr.ENOTDIR);
    assert.throws(() => vfs.statAt(c, AT, '/a.txt/x', 0), linuxerr.ENOTDIR);
    assert.throws(() => vfs.statAt(c, AT, '/' + 'x'.repeat(256), 0), linuxerr.ENAMETOOLONG);
    assert.throws(() => vfs.statAt(c, AT, '/x'.repeat(2048), 0), linuxerr.ENAMETOOLONG);
  });

  it('follows symlinks inside the sandbox root only', () => {
    const c = caller();
    const f = vfs.statAt(c, AT, '/d/f', 0);
    assert.equal(vfs.statAt(c, AT, '/link-abs', 0).ino, f.ino);
    assert.equal(vfs.statAt(c, AT, '/link-rel', 0).ino, f.ino);
    assert.equal(vfs.statAt(c, AT, '/dlink/f', 0).ino, f.ino);
    assert.equal(vfs.statAt(c, AT, '/link-abs', linux.AT_SYMLINK_NOFOLLOW).mode & linux.S_IFMT, linux.S_IFLNK);
    // The host has /etc/passwd; the sandbox root (the temp dir) has not.
    assert.throws(() => vfs.statAt(c, AT, '/abs-etc', 0), linuxerr.ENOENT);
    assert.throws(() => vfs.statAt(c, AT, '/escape', 0), linuxerr.ENOENT);
    assert.equal(vfs.readlinkAt(c, AT, '/link-rel'), 'd/f');
    assert.throws(() => vfs.readlinkAt(c, AT, '/a.txt'), linuxerr.EINVAL);
  });

  it('gives ELOOP for loops and past 40 links', () => {
    const c = caller();
    assert.throws(() => vfs.statAt(c, AT, '/loop1', 0), linuxerr.ELOOP);
    assert.throws(() => vfs.statAt(c, AT, '/chain0', 0), linuxerr.ELOOP);
    assert.equal(vfs.statAt(c, AT, '/chain1', 0).ino, vfs.statAt(c, AT, '/a.txt', 0).ino);
    assert.throws(() => vfs.openAt(c, AT, '/link-abs', linux.O_RDONLY | linux.O_NOFOLLOW, 0), linuxerr.ELOOP);
  });

  it('crosses mount points both ways', () => {
    const c = caller();
    assert.equal(vfs.statAt(c, AT, '/proc/..', 0).ino, vfs.statAt(c, AT, '/', 0).ino);
    const devnull = vfs.statAt(c, AT, '/dev/null', 0);
    assert.equal(devnull.mode & linux.S_IFMT, linux.S_IFCHR);
    assert.notEqual(devnull.dev, vfs.statAt(c, AT, '/', 0).dev);
    vfs.chdirAt(c, AT, '/dev/shm/..');
    assert.equal(vfs.getcwd(c), '/dev');
    assert.equal(vfs.statAt(c, AT, 'null', 0).ino, devnull.ino);
    vfs.chdirAt(c, AT, '..');
    assert.equal(vfs.getcwd(c), '/');
    assert.throws(() => vfs.rmdirAt(c, AT, '/dev'), linuxerr.EBUSY);
  });

  it('resolves relative to a directory fd and with AT_EMPTY_PATH', () => {
    const c = caller();
    const d = vfs.openAt(c, AT, '/d', linux.O_RDONLY | linux.O_DIRECTORY, 0);
    const fd = c.fdTable.newFD(d, false);
    d.decRef();
    assert.equal(vfs.statAt(c, fd, 'f', 0).ino, vfs.statAt(c, AT, '/d/f', 0).ino);
    assert.equal(vfs.statAt(c, fd, '', linux.AT_EMPTY_PATH).ino, vfs.statAt(c, AT, '/d', 0).ino);
    assert.equal(d.path, '/d');
    const f = vfs.openAt(c, AT, '/a.txt', linux.O_RDONLY, 0);
    const ffd = c.fdTable.newFD(f, false);
    f.decRef();
    assert.throws(() => vfs.statAt(c, ffd, 'x', 0), linuxerr.ENOTDIR);
    assert.throws(() => vfs.statAt(c, 99, 'x', 0), linuxerr.EBADF);
    c.fdTable.closeAll();
  });
});

describe('overlay', () => {
  it('copies up on write without touching the host, keeping the inode number', () => {
    const c = caller();
    const before = vfs.statAt(c, AT, '/a.txt', 0);
    const f = vfs.openAt(c, AT, '/a.txt', linux.O_WRONLY | linux.O_TRUNC, 0);
    f.write(Buffer.from('upper a\n'), -1);
    f.decRef();
    assert.equal(fs.readFileSync(path.join(host, 'a.txt'), 'utf8'), 'lower a\n');
    const r = vfs.openAt(c, AT, '/a.txt', linux.O_RDONLY, 0);
    assert.equal(readAll(r), 'upper a\n');
    assert.equal(r.stat().ino, before.ino);
    r.decRef();
    const after = vfs.statAt(c, AT, '/a.txt', 0);
    assert.equal(after.ino, before.ino);
    assert.equal(after.dev, before.dev);
    assert.equal(after.size, 8);
  });

  it('whites out removed lower entries', () => {
    const c = caller();
    vfs.unlinkAt(c, AT, '/d/g', 0);
    assert.throws(() => vfs.statAt(c, AT, '/d/g', 0), linuxerr.ENOENT);
    assert.ok(fs.existsSync(path.join(host, 'd/g')));
    assert.deepEqual(names(c, '/d'), ['f', 'sub']);
    assert.throws(() => vfs.rmdirAt(c, AT, '/d/sub'), linuxerr.ENOTEMPTY);
    vfs.unlinkAt(c, AT, '/d/sub/x', 0);
    vfs.rmdirAt(c, AT, '/d/sub');
    assert.deepEqual(names(c, '/d'), ['f']);
    // mkdir over the removed lower directory gives an opaque, empty one.
    vfs.mkdirAt(c, AT, '/d/sub', 0o755);
    assert.deepEqual(names(c, '/d/sub'), []);
    assert.ok(fs.existsSync(path.join(host, 'd/sub/x')));
  });

  it('merges readdir with d_ino matching stat', () => {
    const c = caller();
    const f = vfs.openAt(c, AT, '/d/new', linux.O_WRONLY | linux.O_CREAT | linux.O_EXCL, 0o644);
    f.decRef();
    const d = vfs.openAt(c, AT, '/d', linux.O_RDONLY, 0);
    const ents = (d.impl as DirectoryImpl).readdir();
    d.decRef();
    assert.deepEqual(ents.map((e) => e.name).sort(), ['.', '..', 'f', 'new', 'sub']);
    for (const e of ents) {
      if (e.name === '..') continue;
      assert.equal(e.ino, vfs.statAt(c, AT, '/d/' + e.name, linux.AT_SYMLINK_NOFOLLOW).ino, e.name);
    }
    assert.equal(ents.find((e) => e.name === '..')!.ino, vfs.statAt(c, AT, '/', 0).ino);
  });

  it('renames lower files and directories', () => {
    const c = caller();
    const ino = vfs.statAt(c, AT, '/d/f', 0).ino;
    vfs.renameAt(c, AT, '/d/f', AT, '/f2', 0);
    assert.equal(vfs.statAt(c, AT, '/f2', 0).ino, ino);
    assert.throws(() => vfs.statAt(c, AT, '/d/f', 0), linuxerr.ENOENT);
    const r = vfs.openAt(c, AT, '/f2', linux.O_RDONLY, 0);
    assert.equal(readAll(r), 'lower f\n');
    r.decRef();
    fs.mkdirSync(path.join(host, 'm'));
    fs.writeFileSync(path.join(host, 'm/inner'), 'inner\n');
    vfs.renameAt(c, AT, '/m', AT, '/m2', 0);
    assert.deepEqual(names(c, '/m2'), ['inner']);
    assert.throws(() => vfs.statAt(c, AT, '/m', 0), linuxerr.ENOENT);
    assert.throws(() => vfs.renameAt(c, AT, '/m2', AT, '/m2/x', 0), linuxerr.EINVAL);
    assert.throws(() => vfs.renameAt(c, AT, '/f2', AT, '/m2', 0), linuxerr.EISDIR);
    assert.throws(() => vfs.renameAt(c, AT, '/m2', AT, '/f2', 0), linuxerr.ENOTDIR);
    vfs.renameAt(c, AT, '/f2', AT, '/m2/inner', linux.RENAME_EXCHANGE);
    const x = vfs.openAt(c, AT, '/f2', linux.O_RDONLY, 0);
    assert.equal(readAll(x), 'inner\n');
    x.decRef();
    assert.throws(() => vfs.renameAt(c, AT, '/f2', AT, '/m2/inner', linux.RENAME_NOREPLACE), linuxerr.EEXIST);
  });

  it('hard-links with a shared link count', () => {
    const c = caller();
    vfs.linkAt(c, AT, '/link-rel', AT, '/hl', 0);
    assert.equal(vfs.statAt(c, AT, '/hl', linux.AT_SYMLINK_NOFOLLOW).mode & linux.S_IFMT, linux.S_IFLNK);
    const f = vfs.openAt(c, AT, '/t1', linux.O_RDWR | linux.O_CREAT, 0o600);
    f.decRef();
    vfs.linkAt(c, AT, '/t1', AT, '/t2', 0);
    assert.equal(vfs.statAt(c, AT, '/t1', 0).nlink, 2);
    assert.equal(vfs.statAt(c, AT, '/t2', 0).ino, vfs.statAt(c, AT, '/t1', 0).ino);
    vfs.unlinkAt(c, AT, '/t1', 0);
    assert.equal(vfs.statAt(c, AT, '/t2', 0).nlink, 1);
    assert.throws(() => vfs.linkAt(c, AT, '/d', AT, '/dl', 0), linuxerr.EPERM);
    assert.throws(() => vfs.linkAt(c, AT, '/t2', AT, '/dev/t3', 0), linuxerr.EXDEV);
  });
});

describe('tmpfs', () => {
  it('applies umask and keeps link counts and times', () => {
    const c = caller();
    c.fs.umask = 0o027;
    vfs.mkdirAt(c, AT, '/tmp/t', 0o777);
    const st = vfs.statAt(c, AT, '/tmp/t', 0);
    assert.equal(st.mode, linux.S_IFDIR | 0o750);
    assert.equal(st.nlink, 2);
    vfs.mkdirAt(c, AT, '/tmp/t/s', 0o777);
    assert.equal(vfs.statAt(c, AT, '/tmp/t', 0).nlink, 3);
    const f = vfs.openAt(c, AT, '/tmp/t/file', linux.O_CREAT | linux.O_WRONLY, 0o666);
    assert.equal(f.stat().mode, linux.S_IFREG | 0o640);
    const m0 = f.stat().mtime;
    f.write(Buffer.alloc(5000), -1);
    assert.equal(f.stat().size, 5000);
    assert.equal(f.stat().blocks, 16);
    assert.ok(f.stat().mtime.sec * 1e9 + f.stat().mtime.nsec >= m0.sec * 1e9 + m0.nsec);
    assert.equal(f.seek(0, linux.SEEK_END), 5000);
    f.decRef();
    assert.throws(() => vfs.mkdirAt(c, AT, '/tmp/t/s', 0o777), linuxerr.EEXIST);
    assert.throws(() => vfs.mkdirAt(c, AT, '/tmp/t/..', 0o777), linuxerr.EEXIST);
    assert.throws(() => vfs.rmdirAt(c, AT, '/tmp/t/.'), linuxerr.EINVAL);
    assert.throws(() => vfs.unlinkAt(c, AT, '/tmp/t/s', 0), linuxerr.EISDIR);
    assert.throws(() => vfs.rmdirAt(c, AT, '/tmp/t/file'), linuxerr.ENOTDIR);
    assert.throws(() => vfs.unlinkAt(c, AT, '/tmp/t/file/', 0), linuxerr.ENOTDIR);
    vfs.rmdirAt(c, AT, '/tmp/t/s');
    assert.equal(vfs.statAt(c, AT, '/tmp/t', 0).nlink, 2);
  });

  it('keeps unlinked open files readable, and getcwd fails in a removed directory', () => {
    const c = caller();
    const f = vfs.openAt(c, AT, '/tmp/gone', linux.O_CREAT | linux.O_RDWR, 0o600);
    f.write(Buffer.from('still here'), 0);
    vfs.unlinkAt(c, AT, '/tmp/gone', 0);
    assert.equal(readAll(f), 'still here');
    assert.equal(f.stat().nlink, 0);
    f.decRef();
    vfs.mkdirAt(c, AT, '/tmp/cwd', 0o755);
    vfs.chdirAt(c, AT, '/tmp/cwd');
    vfs.rmdirAt(c, AT, '/tmp/cwd');
    assert.throws(() => vfs.getcwd(c), linuxerr.ENOENT);
    assert.throws(() => vfs.openAt(c, AT, 'x', linux.O_CREAT | linux.O_RDWR, 0o600), linuxerr.ENOENT);
  });

  it('checks permissions and the sticky bit for unprivileged callers', () => {
    const root = caller();
    vfs.mkdirAt(root, AT, '/tmp/priv', 0o700);
    const f = vfs.openAt(root, AT, '/tmp/rootfile', linux.O_CREAT | linux.O_RDWR, 0o644);
    f.decRef();
    const u = caller(1000);
    assert.throws(() => vfs.statAt(u, AT, '/tmp/priv/x', 0), linuxerr.EACCES);
    assert.throws(() => vfs.openAt(u, AT, '/tmp/rootfile', linux.O_WRONLY, 0), linuxerr.EACCES);
    vfs.openAt(u, AT, '/tmp/rootfile', linux.O_RDONLY, 0).decRef();
    // /tmp is sticky: only the owner may remove.
    assert.throws(() => vfs.unlinkAt(u, AT, '/tmp/rootfile', 0), linuxerr.EPERM);
    assert.throws(() => vfs.chmodAt(u, AT, '/tmp/rootfile', 0o777, 0), linuxerr.EPERM);
    const g = vfs.openAt(u, AT, '/tmp/mine', linux.O_CREAT | linux.O_RDWR, 0o600);
    assert.equal(g.stat().uid, 1000);
    g.decRef();
    vfs.unlinkAt(u, AT, '/tmp/mine', 0);
    assert.throws(() => vfs.accessAt(u, AT, '/tmp/rootfile', linux.W_OK, 0), linuxerr.EACCES);
    vfs.accessAt(u, AT, '/tmp/rootfile', linux.R_OK, 0);
    // Root may not execute a file without any x bit.
    assert.throws(() => vfs.accessAt(root, AT, '/tmp/rootfile', linux.X_OK, 0), linuxerr.EACCES);
  });

  it('resumes getdents from a snapshot under concurrent changes', () => {
    const c = caller();
    vfs.mkdirAt(c, AT, '/tmp/ls', 0o755);
    for (let i = 0; i < 5; i++) vfs.openAt(c, AT, `/tmp/ls/f${i}`, linux.O_CREAT | linux.O_WRONLY, 0o644).decRef();
    const d = vfs.openAt(c, AT, '/tmp/ls', linux.O_RDONLY, 0);
    const impl = d.impl as DirectoryImpl;
    const first = impl.entries(d).slice(0, 3).map((e) => e.name);
    d.offset = 3;
    vfs.unlinkAt(c, AT, '/tmp/ls/f4', 0);
    vfs.openAt(c, AT, '/tmp/ls/zz', linux.O_CREAT | linux.O_WRONLY, 0o644).decRef();
    const rest = impl.entries(d).slice(3).map((e) => e.name);
    assert.deepEqual([...first, ...rest].sort(), ['.', '..', 'f0', 'f1', 'f2', 'f3', 'f4']);
    d.seek(0, linux.SEEK_SET);
    assert.ok(impl.entries(d).some((e) => e.name === 'zz'));
    d.decRef();
  });

  it('rejects writes on read-only mounts', () => {
    const c = caller();
    assert.throws(() => vfs.mkdirAt(c, AT, '/sys/x', 0o755), linuxerr.EROFS);
    assert.throws(() => vfs.openAt(c, AT, '/sys/devices/system/cpu/online', linux.O_WRONLY, 0), linuxerr.EROFS);
    const f = vfs.openAt(c, AT, '/sys/devices/system/cpu/online', linux.O_RDONLY, 0);
    assert.match(readAll(f), /^0(-\d+)?\n$/);
    f.decRef();
  });
});

describe('open', () => {
  it('creates through a dangling symlink, and O_EXCL refuses symlinks', () => {
    const c = caller();
    vfs.symlinkAt(c, '/tmp/target', AT, '/tmp/dangling');
    assert.throws(() => vfs.openAt(c, AT, '/tmp/dangling', linux.O_CREAT | linux.O_EXCL | linux.O_WRONLY, 0o644),
      linuxerr.EEXIST);
    const f = vfs.openAt(c, AT, '/tmp/dangling', linux.O_CREAT | linux.O_WRONLY, 0o644);
    assert.equal(f.path, '/tmp/target');
    f.decRef();
    assert.equal(vfs.statAt(c, AT, '/tmp/target', 0).mode & linux.S_IFMT, linux.S_IFREG);
    assert.throws(() => vfs.openAt(c, AT, '/tmp', linux.O_WRONLY, 0), linuxerr.EISDIR);
    assert.throws(() => vfs.openAt(c, AT, '/tmp/target', linux.O_RDONLY | linux.O_DIRECTORY, 0), linuxerr.ENOTDIR);
    assert.throws(() => vfs.openAt(c, AT, '/tmp/nf/', linux.O_CREAT | linux.O_WRONLY, 0o644), linuxerr.EISDIR);
    const p = vfs.openAt(c, AT, '/tmp/dangling', linux.O_PATH | linux.O_NOFOLLOW, 0);
    assert.equal(p.stat().mode & linux.S_IFMT, linux.S_IFLNK);
    assert.throws(() => p.read(new Uint8Array(1), 0), linuxerr.EBADF);
    p.decRef();
  });

  it('makes O_TMPFILE files that linkat can name', () => {
    const c = caller();
    const f = vfs.openAt(c, AT, '/tmp', linux.O_TMPFILE | linux.O_RDWR, 0o600);
    f.write(Buffer.from('anon'), 0);
    assert.equal(f.stat().nlink, 0);
    const fd = c.fdTable.newFD(f, false);
    f.decRef();
    vfs.linkAt(c, fd, '', AT, '/tmp/named', linux.AT_EMPTY_PATH);
    const r = vfs.openAt(c, AT, '/tmp/named', linux.O_RDONLY, 0);
    assert.equal(readAll(r), 'anon');
    assert.equal(r.stat().nlink, 1);
    r.decRef();
    c.fdTable.closeAll();
  });

  it('honours openat2 RESOLVE_ flags', () => {
    const c = caller();
    vfs.mkdirAt(c, AT, '/tmp/r', 0o755);
    vfs.openAt(c, AT, '/tmp/r/f', linux.O_CREAT | linux.O_WRONLY, 0o644).decRef();
    vfs.symlinkAt(c, '/f', AT, '/tmp/r/abs');
    const d = vfs.openAt(c, AT, '/tmp/r', linux.O_PATH, 0);
    const fd = c.fdTable.newFD(d, false);
    d.decRef();
    assert.throws(() => vfs.openAt(c, fd, '../a.txt', linux.O_RDONLY, 0, RESOLVE_BENEATH), linuxerr.EXDEV);
    assert.throws(() => vfs.openAt(c, fd, '/a.txt', linux.O_RDONLY, 0, RESOLVE_BENEATH), linuxerr.EXDEV);
    assert.throws(() => vfs.openAt(c, fd, 'abs', linux.O_RDONLY, 0, RESOLVE_BENEATH), linuxerr.EXDEV);
    vfs.openAt(c, fd, 'f', linux.O_RDONLY, 0, RESOLVE_BENEATH).decRef();
    // IN_ROOT: "..", "/" and absolute symlinks stay inside /tmp/r.
    const f = vfs.openAt(c, fd, '../../f', linux.O_RDONLY, 0, RESOLVE_IN_ROOT);
    assert.equal(f.path, '/tmp/r/f');
    f.decRef();
    assert.equal(vfs.openAt(c, fd, 'abs', linux.O_RDONLY, 0, RESOLVE_IN_ROOT).stat().ino,
      vfs.statAt(c, AT, '/tmp/r/f', 0).ino);
    assert.throws(() => vfs.openAt(c, AT, '/link-rel', linux.O_RDONLY, 0, RESOLVE_NO_SYMLINKS), linuxerr.ELOOP);
    c.fdTable.closeAll();
  });
});

describe('volumes', () => {
  it('shows host directories read-only or read-write', () => {
    const c = caller();
    const r = vfs.openAt(c, AT, '/vol-ro/sub/h', linux.O_RDONLY, 0);
    assert.equal(readAll(r), 'host h\n');
    r.decRef();
    assert.throws(() => vfs.openAt(c, AT, '/vol-ro/sub/h', linux.O_WRONLY, 0), linuxerr.EROFS);
    assert.throws(() => vfs.mkdirAt(c, AT, '/vol-ro/x', 0o755), linuxerr.EROFS);
    assert.equal(readAll(vfs.openAt(c, AT, '/new/mount/point/sub/h', linux.O_RDONLY, 0)), 'host h\n');

    const w = vfs.openAt(c, AT, '/vol-rw/sub/new', linux.O_CREAT | linux.O_WRONLY, 0o644);
    w.write(Buffer.from('from guest'), -1);
    w.decRef();
    assert.equal(fs.readFileSync(path.join(vol, 'sub/new'), 'utf8'), 'from guest');
    vfs.renameAt(c, AT, '/vol-rw/sub/new', AT, '/vol-rw/renamed', 0);
    assert.ok(fs.existsSync(path.join(vol, 'renamed')));
    assert.throws(() => vfs.linkAt(c, AT, '/vol-ro/sub/h', AT, '/vol-rw/l', 0), linuxerr.EXDEV);
    assert.throws(() => vfs.linkAt(c, AT, '/vol-rw/renamed', AT, '/vol-ro/l', 0), linuxerr.EROFS);
    vfs.unlinkAt(c, AT, '/vol-rw/renamed', 0);
    assert.ok(!fs.existsSync(path.join(vol, 'renamed')));
    // Changes made on the host show in the read-write volume.
    fs.writeFileSync(path.join(vol, 'sub/late'), 'late');
    assert.equal(vfs.statAt(c, AT, '/vol-rw/sub/late', 0).size, 4);
    assert.notEqual(vfs.statAt(c, AT, '/vol-ro', 0).dev, vfs.statAt(c, AT, '/vol-rw', 0).dev);
  });
});
