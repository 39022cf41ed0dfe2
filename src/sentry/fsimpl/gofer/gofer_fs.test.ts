import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as linuxerr from '../../../abi/linux/errno.js';
import * as linux from '../../../abi/linux/file.js';
import { OP } from '../../../gofer/protocol.js';
import type { GoferClient } from './client.js';
import { GoferHostFS, MAX_IDLE_FDS } from './gofer_fs.js';

/** fakeClient records requests; OPEN answers a real fd on /dev/null. */
function fakeClient(readonly: boolean): { c: GoferClient; log: [number, string[]][] } {
  const log: [number, string[]][] = [];
  const c = {
    readonly,
    rpc(op: number, nums: number[], strs: string[]): number {
      void nums;
      log.push([op, strs]);
      return op === OP.OPEN ? fs.openSync('/dev/null', 'r') : -1;
    },
  };
  return { c: c as unknown as GoferClient, log };
}

test('paths go to the longest mount prefix, relative to its root', () => {
  const root = fakeClient(true);
  const vol = fakeClient(false);
  const h = new GoferHostFS([{ hostPath: '/', client: root.c }, { hostPath: '/tmp/vol', client: vol.c }]);
  h.mkdir('/tmp/vol', 0o755);
  h.mkdir('/tmp/vol/a/b', 0o755);
  h.mkdir('/tmp/volume', 0o755);
  h.mkdir('/', 0o755);
  h.mkdir('/etc', 0o755);
  assert.deepEqual(vol.log, [[OP.MKDIR, ['']], [OP.MKDIR, ['a/b']]]);
  assert.deepEqual(root.log, [[OP.MKDIR, ['tmp/volume']], [OP.MKDIR, ['']], [OP.MKDIR, ['etc']]]);
  assert.throws(() => h.rename('/tmp/vol/x', '/tmp/x'), (e) => e === linuxerr.EXDEV);
  h.symlink('/etc/passwd', '/tmp/vol/l');
  assert.deepEqual(vol.log.at(-1), [OP.SYMLINK, ['/etc/passwd', 'l']]);
});

test('paths outside every mount are refused', () => {
  const a = fakeClient(true);
  const h = new GoferHostFS([{ hostPath: '/srv/root', client: a.c }]);
  for (const p of ['/etc/passwd', '/srv', '/srv/rootx', '/srv/roo']) {
    assert.throws(() => h.lstat(p), (e) => e === linuxerr.EACCES, p);
  }
  assert.equal(a.log.length, 0);
});

test('read-only opens on a read-only gofer share one fd per path', () => {
  const ro = fakeClient(true);
  const h = new GoferHostFS([{ hostPath: '/r', client: ro.c }]);
  const fd1 = h.open('/r/f', linux.O_RDONLY);
  const fd2 = h.open('/r/f', linux.O_RDONLY | linux.O_CLOEXEC);
  assert.equal(fd1, fd2);
  assert.equal(ro.log.length, 1, 'one round trip');
  h.close(fd1);
  h.close(fd2);
  fs.fstatSync(fd1); // still open: kept idle for the next open
  assert.equal(h.open('/r/f', linux.O_RDONLY), fd1);
  assert.equal(ro.log.length, 1);
  h.close(fd1);
  // Other flags are not shared.
  const d = h.open('/r/f', linux.O_RDONLY | linux.O_DIRECTORY);
  assert.notEqual(d, fd1);
  h.close(d);
  assert.throws(() => fs.fstatSync(d));
});

test('idle shared fds are bounded, least recently used closed first', () => {
  const ro = fakeClient(true);
  const h = new GoferHostFS([{ hostPath: '/', client: ro.c }]);
  const fds: number[] = [];
  for (let i = 0; i <= MAX_IDLE_FDS; i++) fds.push(h.open(`/f${i}`, linux.O_RDONLY));
  const busy = h.open('/busy', linux.O_RDONLY);
  for (const fd of fds) h.close(fd);
  assert.throws(() => fs.fstatSync(fds[0]), 'oldest idle closed');
  fs.fstatSync(fds[MAX_IDLE_FDS]);
  fs.fstatSync(busy);
  h.close(busy);
});

test('writable gofers never share', () => {
  const rw = fakeClient(false);
  const h = new GoferHostFS([{ hostPath: '/', client: rw.c }]);
  const a = h.open('/f', linux.O_RDONLY);
  const b = h.open('/f', linux.O_RDONLY);
  assert.notEqual(a, b);
  h.close(a);
  assert.throws(() => fs.fstatSync(a));
  h.close(b);
});
