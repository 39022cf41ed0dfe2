// GoferServer's checks, over a temporary directory in this process (no
// chroot: the integration test in test/gofer covers the real process).

import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ERRNO } from '../abi/linux/errno.js';
import * as linux from '../abi/linux/file.js';
import type { HostDirent } from '../sentry/fsimpl/hostfs/host_fs.js';
import {
  FLAG_MORE, MAX_FRAME, OP, PROTOCOL_VERSION, REPLY_HEADER, decodeDirents, decodeStat, encodeRequest, readReplyHeader,
} from './protocol.js';
import type { Frame } from './server.js';
import { GoferServer, splitPath } from './server.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'gofer-server-'));
process.on('exit', () => fs.rmSync(tmp, { recursive: true, force: true }));
fs.writeFileSync(path.join(tmp, 'hello'), 'hello world\n');
fs.mkdirSync(path.join(tmp, 'dir'));
fs.writeFileSync(path.join(tmp, 'dir', 'f'), 'f');
fs.symlinkSync('/', path.join(tmp, 'up'));
fs.symlinkSync('../../..', path.join(tmp, 'dir', 'rel'));
fs.symlinkSync('hello', path.join(tmp, 'lnk'));
const hasFifo = spawnSync('mkfifo', [path.join(tmp, 'fifo')]).status === 0;
const isRoot = process.getuid?.() === 0;
if (isRoot) spawnSync('mknod', [path.join(tmp, 'null'), 'c', '1', '3']);
fs.mkdirSync(path.join(tmp, 'big'));
for (let i = 0; i < 5000; i++) fs.writeFileSync(path.join(tmp, 'big', `file-number-${i}-of-a-big-directory`), '');

const opened: number[] = [];
const server = (readonly = false, devices = false): GoferServer =>
  new GoferServer({ root: tmp, readonly, devices }, (fd) => opened.push(fd));

let nextId = 1;
function call(s: GoferServer, op: number, nums: number[], strs: string[]): Frame[] {
  const buf = new Uint8Array(MAX_FRAME);
  const id = nextId++;
  const frames = s.handle(buf.subarray(0, encodeRequest({ id, op, nums, strs }, buf)));
  for (const f of frames) assert.equal(readReplyHeader(f.data).id, id);
  return frames;
}

/** errno returns the reply's errno (0: success), closing any fd. */
function errno(s: GoferServer, op: number, nums: number[], strs: string[]): number {
  const [f] = call(s, op, nums, strs);
  if (f.fd >= 0) fs.closeSync(f.fd);
  return readReplyHeader(f.data).errno;
}

test('splitPath accepts relative component paths only', () => {
  assert.deepEqual(splitPath(''), []);
  assert.deepEqual(splitPath('a/b.c/..d'), ['a', 'b.c', '..d']);
  for (const bad of ['/etc', 'a/', 'a//b', '.', '..', 'a/../b', 'a/./b', 'a\0b']) {
    assert.throws(() => splitPath(bad), (e: { errno?: number }) => e.errno === ERRNO.EINVAL, bad);
  }
  assert.throws(() => splitPath('x'.repeat(256)), (e: { errno?: number }) => e.errno === ERRNO.ENAMETOOLONG);
  assert.throws(() => splitPath(('x'.repeat(200) + '/').repeat(21)), (e: { errno?: number }) => e.errno === ERRNO.ENAMETOOLONG);
});

test('version', () => {
  const s = server(true);
  const [f] = call(s, OP.VERSION, [PROTOCOL_VERSION], []);
  const dv = new DataView(f.data.buffer, f.data.byteOffset);
  assert.equal(readReplyHeader(f.data).errno, 0);
  assert.equal(dv.getUint32(REPLY_HEADER, true), PROTOCOL_VERSION);
  assert.equal(dv.getUint32(REPLY_HEADER + 4, true), 1);
  assert.equal(errno(s, OP.VERSION, [PROTOCOL_VERSION + 1], []), ERRNO.EPROTONOSUPPORT);
});

test('a normal open returns an fd on the right file, blocking', () => {
  const s = server(true);
  opened.length = 0;
  const [f] = call(s, OP.OPEN, [linux.O_RDONLY, 0], ['hello']);
  assert.equal(readReplyHeader(f.data).errno, 0);
  assert.ok(f.fd >= 0);
  assert.deepEqual(opened, [f.fd], 'O_NONBLOCK cleared');
  assert.equal(fs.readFileSync(f.fd, 'utf8'), 'hello world\n');
  fs.closeSync(f.fd);
  const [g] = call(s, OP.OPEN, [linux.O_RDONLY | linux.O_NONBLOCK, 0], ['dir/f']);
  assert.deepEqual(opened, [f.fd], 'O_NONBLOCK kept when asked for');
  fs.closeSync(g.fd);
});

test('lstat does not follow, and rejects intermediate symlinks', () => {
  const s = server(true);
  const [f] = call(s, OP.LSTAT, [], ['up']);
  assert.equal(decodeStat(f.data, REPLY_HEADER).mode & linux.S_IFMT, linux.S_IFLNK);
  assert.equal(errno(s, OP.LSTAT, [], ['up/etc']), ERRNO.ELOOP);
  assert.equal(errno(s, OP.LSTAT, [], ['hello/x']), ERRNO.ENOTDIR);
  assert.equal(errno(s, OP.LSTAT, [], ['nope/x']), ERRNO.ENOENT);
  assert.equal(decodeStat(call(s, OP.LSTAT, [], [''])[0].data, REPLY_HEADER).ino, fs.lstatSync(tmp, { bigint: true }).ino);
});

test('escapes are refused', () => {
  const s = server(false);
  assert.equal(errno(s, OP.OPEN, [linux.O_RDONLY, 0], ['up/etc/passwd']), ERRNO.ELOOP);
  assert.equal(errno(s, OP.OPEN, [linux.O_RDONLY, 0], ['dir/rel/etc/passwd']), ERRNO.ELOOP);
  assert.equal(errno(s, OP.OPEN, [linux.O_RDONLY, 0], ['up']), ERRNO.ELOOP);
  assert.equal(errno(s, OP.OPEN, [linux.O_RDONLY, 0], ['lnk']), ERRNO.ELOOP, 'final symlink not followed');
  assert.equal(errno(s, OP.OPEN, [linux.O_RDONLY, 0], ['../etc/passwd']), ERRNO.EINVAL);
  assert.equal(errno(s, OP.OPEN, [linux.O_RDONLY, 0], ['/etc/passwd']), ERRNO.EINVAL);
  assert.equal(errno(s, OP.OPEN, [linux.O_RDONLY, 0], ['dir/../../etc/passwd']), ERRNO.EINVAL);
  assert.equal(errno(s, OP.READDIR, [], ['up']), ERRNO.ELOOP);
  assert.equal(errno(s, OP.READDIR, [], ['..']), ERRNO.EINVAL);
  assert.equal(errno(s, OP.STATFS, [], ['up']), ERRNO.ELOOP);
  assert.equal(errno(s, OP.MKDIR, [0o755], ['up/tmp/gofer-escape']), ERRNO.ELOOP);
  assert.equal(errno(s, OP.SYMLINK, [], ['/etc/passwd', 'up/tmp/x']), ERRNO.ELOOP);
  assert.equal(errno(s, OP.RENAME, [], ['hello', '../hello']), ERRNO.EINVAL);
  assert.equal(errno(s, OP.LINK, [], ['up/etc/passwd', 'stolen']), ERRNO.ELOOP);
  assert.equal(errno(s, OP.CHMOD, [0o777], ['up']), ERRNO.EOPNOTSUPP, 'chmod would follow the link');
  assert.equal(errno(s, OP.TRUNCATE, [0], ['lnk']), ERRNO.ELOOP);
  assert.equal(fs.readFileSync(path.join(tmp, 'hello'), 'utf8'), 'hello world\n');
  assert.equal(fs.existsSync(path.join(tmp, 'stolen')), false);
});

test('open flags and modes are validated', () => {
  const s = server(false);
  assert.equal(errno(s, OP.OPEN, [linux.O_PATH, 0], ['hello']), ERRNO.EINVAL);
  assert.equal(errno(s, OP.OPEN, [linux.O_TMPFILE | linux.O_RDWR, 0o600], ['dir']), ERRNO.EINVAL);
  assert.equal(errno(s, OP.OPEN, [linux.O_ASYNC, 0], ['hello']), ERRNO.EINVAL);
  assert.equal(errno(s, OP.OPEN, [3, 0], ['hello']), ERRNO.EINVAL);
  assert.equal(errno(s, OP.OPEN, [-1, 0], ['hello']), ERRNO.EINVAL);
  assert.equal(errno(s, OP.OPEN, [0.5, 0], ['hello']), ERRNO.EINVAL);
  assert.equal(errno(s, OP.OPEN, [linux.O_CREAT | linux.O_WRONLY, 0o100644], ['new']), ERRNO.EINVAL);
  assert.equal(errno(s, OP.OPEN, [linux.O_RDONLY], ['hello']), ERRNO.EINVAL, 'wrong arity');
  assert.equal(errno(s, 200, [], []), ERRNO.ENOSYS);
});

test('FIFOs, sockets and devices are refused', { skip: !hasFifo && !isRoot }, () => {
  const s = server(false);
  if (hasFifo) assert.equal(errno(s, OP.OPEN, [linux.O_RDONLY, 0], ['fifo']), ERRNO.ENXIO);
  if (isRoot) {
    assert.equal(errno(s, OP.OPEN, [linux.O_RDWR, 0], ['null']), ERRNO.EACCES);
    assert.equal(errno(server(false, true), OP.OPEN, [linux.O_RDWR, 0], ['null']), 0, 'allowed with devices');
  }
});

test('a read-only server refuses changes', () => {
  const s = server(true);
  assert.equal(errno(s, OP.OPEN, [linux.O_WRONLY, 0], ['hello']), ERRNO.EROFS);
  assert.equal(errno(s, OP.OPEN, [linux.O_RDONLY | linux.O_TRUNC, 0], ['hello']), ERRNO.EROFS);
  assert.equal(errno(s, OP.OPEN, [linux.O_RDONLY | linux.O_CREAT, 0o644], ['new']), ERRNO.EROFS);
  assert.equal(errno(s, OP.MKDIR, [0o755], ['newdir']), ERRNO.EROFS);
  assert.equal(errno(s, OP.UNLINK, [], ['hello']), ERRNO.EROFS);
  assert.equal(errno(s, OP.TRUNCATE, [0], ['hello']), ERRNO.EROFS);
  assert.equal(fs.readFileSync(path.join(tmp, 'hello'), 'utf8'), 'hello world\n');
});

test('changes on a read-write server', () => {
  const s = server(false);
  assert.equal(errno(s, OP.MKDIR, [0o750], ['w']), 0);
  assert.equal(fs.statSync(path.join(tmp, 'w')).mode & 0o777, 0o750 & ~process.umask());
  assert.equal(errno(s, OP.OPEN, [linux.O_CREAT | linux.O_EXCL | linux.O_WRONLY, 0o600], ['w/a']), 0);
  assert.equal(errno(s, OP.OPEN, [linux.O_CREAT | linux.O_EXCL | linux.O_WRONLY, 0o600], ['w/a']), ERRNO.EEXIST);
  fs.writeFileSync(path.join(tmp, 'w/a'), '0123456789');
  assert.equal(errno(s, OP.TRUNCATE, [4], ['w/a']), 0);
  assert.equal(fs.readFileSync(path.join(tmp, 'w/a'), 'utf8'), '0123');
  assert.equal(errno(s, OP.CHMOD, [0o640], ['w/a']), 0);
  assert.equal(fs.statSync(path.join(tmp, 'w/a')).mode & 0o7777, 0o640);
  assert.equal(errno(s, OP.UTIMES, [1000, 5, 2000, 0], ['w/a']), 0);
  assert.equal(fs.statSync(path.join(tmp, 'w/a')).mtimeMs, 2_000_000);
  assert.equal(errno(s, OP.LINK, [], ['w/a', 'w/b']), 0);
  assert.equal(errno(s, OP.RENAME, [], ['w/b', 'w/c']), 0);
  assert.equal(errno(s, OP.SYMLINK, [], ['/anywhere/at/all', 'w/l']), 0);
  assert.equal(fs.readlinkSync(path.join(tmp, 'w/l')), '/anywhere/at/all');
  assert.equal(errno(s, OP.LCHOWN, [process.getuid?.() ?? 0, process.getgid?.() ?? 0], ['w/l']), 0);
  assert.deepEqual(fs.readdirSync(path.join(tmp, 'w')).sort(), ['a', 'c', 'l']);
  assert.equal(errno(s, OP.RMDIR, [], ['w']), ERRNO.ENOTEMPTY);
  for (const n of ['a', 'c', 'l']) assert.equal(errno(s, OP.UNLINK, [], [`w/${n}`]), 0);
  assert.equal(errno(s, OP.RMDIR, [], ['w']), 0);
});

test('readdir of a big directory spans frames', () => {
  const s = server(true);
  const frames = call(s, OP.READDIR, [], ['big']);
  assert.ok(frames.length > 1);
  const out: HostDirent[] = [];
  frames.forEach((f, i) => {
    const h = readReplyHeader(f.data);
    assert.equal(h.errno, 0);
    assert.equal(h.flags & FLAG_MORE, i < frames.length - 1 ? FLAG_MORE : 0);
    assert.ok(f.data.length <= MAX_FRAME);
    decodeDirents(f.data, REPLY_HEADER, out);
  });
  assert.equal(out.length, 5000);
  assert.ok(out.every((d) => d.type === linux.DT_REG));
});

test('a frame too short for an id is a broken peer; a bad body gets EINVAL', () => {
  const s = server(true);
  assert.throws(() => s.handle(Uint8Array.of(1, 2)));
  const [f] = s.handle(Uint8Array.of(9, 0, 0, 0, OP.LSTAT, 0, 1, 0, 200, 0, 0, 0));
  assert.deepEqual(readReplyHeader(f.data), { id: 9, op: OP.LSTAT, flags: 0, errno: ERRNO.EINVAL });
});
