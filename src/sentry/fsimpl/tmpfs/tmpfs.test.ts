// tmpfs mechanics: file data (buffer and memfd), space accounting, link
// counts, rename, and ownership inheritance from setgid directories.

import assert from 'node:assert/strict';
import { fstatSync, readSync } from 'node:fs';
import { describe, it } from 'node:test';
import * as linuxerr from '../../../abi/linux/errno.js';
import * as linux from '../../../abi/linux/file.js';
import { Credentials } from '../../kernel/creds.js';
import { FDTable } from '../../kernel/fd_table.js';
import { FSContext } from '../../vfs/fs_context.js';
import type { Caller } from '../../vfs/inode.js';
import { FileData } from './file_data.js';
import type { TmpfsDir, TmpfsFile } from './tmpfs.js';
import { Tmpfs } from './tmpfs.js';

function caller(uid = 0, gid = 0): Caller {
  const creds = new Credentials();
  creds.fsuid = uid;
  creds.fsgid = gid;
  return { fs: new FSContext(), creds, fdTable: new FDTable() };
}

describe('FileData', () => {
  it('reads back writes, zero-fills holes and truncates', () => {
    const d = new FileData();
    d.write(Buffer.from('hello'), 0);
    d.write(Buffer.from('world'), 10);
    assert.equal(d.size, 15);
    const out = Buffer.alloc(20);
    assert.equal(d.read(out, 0), 15);
    assert.deepEqual(out.subarray(0, 15), Buffer.from('hello\0\0\0\0\0world'));
    d.truncate(3);
    d.truncate(8);
    out.fill(7);
    assert.equal(d.read(out, 0), 8);
    assert.deepEqual(out.subarray(0, 8), Buffer.from('hel\0\0\0\0\0'));
    assert.equal(d.read(out, 8), 0);
  });

  it('moves to a memfd for mapping, keeping the bytes', () => {
    const d = new FileData();
    d.write(Buffer.from('mapped data'), 4096);
    const fd = d.memfd();
    assert.ok(d.inMemfd);
    assert.equal(d.hostFile.hostFd(), fd);
    assert.equal(fstatSync(fd).size, 4096 + 11);
    const b = Buffer.alloc(11);
    assert.equal(readSync(fd, b, 0, 11, 4096), 11);
    assert.equal(b.toString(), 'mapped data');
    d.write(Buffer.from('X'), 0);
    const c = Buffer.alloc(1);
    assert.equal(d.read(c, 0), 1);
    assert.equal(c.toString(), 'X');
    d.truncate(2);
    assert.equal(fstatSync(fd).size, 2);
    d.release();
  });
});

describe('Tmpfs', () => {
  it('counts links and sizes directories', () => {
    const fs = new Tmpfs();
    const c = caller();
    const r = fs.root;
    const d = r.mkdir(c, 'd', 0o755) as TmpfsDir;
    assert.equal(r.stat().nlink, 3);
    assert.equal(d.stat().nlink, 2);
    assert.equal(r.stat().size, 3 * 20);
    const f = d.create(c, 'f', 0o644);
    d.link(c, 'g', f);
    assert.equal(f.stat().nlink, 2);
    d.unlink(c, 'f');
    assert.equal(f.stat().nlink, 1);
    r.mkdir(c, 'e', 0o755);
    d.rename(c, 'g', r, 'moved', 0);
    assert.equal(r.lookup(c, 'moved'), f);
    assert.equal(d.lookup(c, 'g'), null);
    // Moving a directory moves its ".." link.
    r.rename(c, 'e', d, 'e2', 0);
    assert.equal(r.stat().nlink, 3);
    assert.equal(d.stat().nlink, 3);
    assert.equal(d.lookup(c, 'e2')!.parent, d);
    r.rename(c, 'moved', d, 'e2', linux.RENAME_EXCHANGE);
    assert.equal(d.lookup(c, 'e2'), f);
    assert.equal(r.stat().nlink, 4);
    assert.equal(d.stat().nlink, 2);
  });

  it('gives ENOSPC past its size and frees space of removed files', () => {
    const fs = new Tmpfs({ maxBytes: 8192 });
    const c = caller();
    const f = fs.root.create(c, 'f', 0o644) as TmpfsFile;
    f.write(Buffer.alloc(8192), 0);
    assert.throws(() => f.write(Buffer.alloc(1), 8192), linuxerr.ENOSPC);
    assert.equal(fs.statfs().bfree, 0);
    fs.root.unlink(c, 'f');
    assert.equal(fs.statfs().bfree, 2);
    const before = fs.statfs().ffree;
    fs.root.create(c, 'g', 0o644);
    assert.equal(fs.statfs().ffree, before - 1);
  });

  it('inherits the group of setgid directories', () => {
    const fs = new Tmpfs();
    const root = caller();
    const d = fs.root.mkdir(root, 'sg', 0o755) as TmpfsDir;
    d.setattr(root, { mode: 0o2775, gid: 50 });
    const u = caller(1000, 1000);
    const f = d.create(u, 'f', 0o644);
    assert.equal(f.uid, 1000);
    assert.equal(f.gid, 50);
    const sub = d.mkdir(u, 's', 0o755);
    assert.equal(sub.gid, 50);
    assert.ok(sub.mode & linux.S_ISGID);
  });
});
