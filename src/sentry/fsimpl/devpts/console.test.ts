import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { DevptsFS, PTS_MAJOR, registerDevpts } from './devpts.js';
import { newConsoleFD, openSessionConsole } from './console.js';
import type { Caller } from '../../vfs/inode.js';
import { makeDev } from '../../vfs/inode.js';
import { FileDescription } from '../../vfs/file_description.js';
import type { FileDescriptionImpl } from '../../vfs/file_description.js';

const caller = {} as Caller;

test('consoles take the lowest free /dev/pts index and show in lookup and readdir', () => {
  const pts = new DevptsFS();
  const a = pts.attachConsole(1000, () => { throw new Error('not opened'); });
  const b = pts.attachConsole(0, () => { throw new Error('not opened'); });
  assert.equal(a.index, 0);
  assert.equal(a.path, '/dev/pts/0');
  assert.equal(b.index, 1);
  const n = pts.root.lookup(caller, '0');
  assert.ok(n);
  const st = n.stat();
  assert.equal(st.rdev, makeDev(PTS_MAJOR, 0));
  assert.equal(st.uid, 1000);
  assert.deepEqual(st, a.stat());
  assert.deepEqual(pts.root.readdir(caller).map((e) => e.name), ['ptmx', '0', '1']);
  a.detach();
  assert.equal(pts.root.lookup(caller, '0'), null);
  const c = pts.attachConsole(0, () => { throw new Error('not opened'); });
  assert.equal(c.index, 0);
});

test('a console description stats as its node, is named by it, and owns the node while open', () => {
  const vfs = {};
  const pts = new DevptsFS();
  registerDevpts(vfs, pts);
  const hostFd = fs.openSync('/dev/null', 'r+');
  const f = newConsoleFD(vfs, hostFd, 2, { owned: true }, 0);
  assert.equal(f.path, '/dev/pts/0');
  const node = pts.root.lookup(caller, '0');
  assert.ok(node);
  assert.deepEqual(f.stat(), node.stat());
  assert.equal(f.stat().dev, pts.dev);
  // Opening the node again keeps the first description (and the host fd) alive.
  const again = new FileDescription(node.open(caller, 2, node) as FileDescriptionImpl, 2, '/dev/pts/0');
  assert.deepEqual(again.stat(), node.stat());
  f.decRef();
  assert.ok(pts.root.lookup(caller, '0'), 'node stays while a reopened description holds it');
  assert.doesNotThrow(() => fs.fstatSync(hostFd));
  again.decRef();
  assert.equal(pts.root.lookup(caller, '0'), null);
  assert.throws(() => fs.fstatSync(hostFd), /EBADF/);
});

test('without a devpts the terminal is a plain host file', () => {
  const hostFd = fs.openSync('/dev/null', 'r');
  const f = newConsoleFD({}, hostFd, 0, { owned: true }, 0);
  assert.equal(f.path, '/dev/null');
  f.decRef();
});

test('a console given a session is that session\'s /dev/tty until it goes', () => {
  const vfs = {};
  registerDevpts(vfs, new DevptsFS());
  const hostFd = fs.openSync('/dev/null', 'r+');
  const f = newConsoleFD(vfs, hostFd, 2, { owned: true }, 0, 42);
  assert.equal(openSessionConsole(vfs, 7, 2), null);
  const tty = openSessionConsole(vfs, 42, 2, () => ({ ...f.stat(), rdev: 5 << 8 }));
  assert.ok(tty);
  assert.equal(tty.stat(new FileDescription(tty, 2)).rdev, 5 << 8);
  f.decRef();
  assert.doesNotThrow(() => fs.fstatSync(hostFd), 'the /dev/tty description holds the terminal');
  tty.release!();
  assert.equal(openSessionConsole(vfs, 42, 2), null);
});

test('a console description has its place in the tree, so fchown and fchmod reach /dev/pts/N', async () => {
  const { Mount } = await import('../../vfs/mount.js');
  const { locOf } = await import('../../vfs/vfs.js');
  const pts = new DevptsFS();
  const vfs = { root: new Mount(pts, pts.root, null, null, false) };
  registerDevpts(vfs, pts);
  const hostFd = fs.openSync('/dev/null', 'r+');
  const f = newConsoleFD(vfs, hostFd, 2, { owned: true }, 0);
  const loc = locOf(f);
  assert.ok(loc, 'the description is placed');
  assert.equal(loc.mnt, vfs.root);
  assert.equal(loc.node, pts.root.lookup(caller, '0'));
  f.decRef();
});
