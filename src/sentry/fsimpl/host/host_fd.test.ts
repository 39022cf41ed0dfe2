import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import * as linux from '../../../abi/linux/file.js';
import * as linuxerr from '../../../abi/linux/errno.js';
import { native } from '../../../platform/ptrace/native.js';
import { EVENT_IN } from '../../vfs/waiter.js';
import { newHostFD } from './host_fd.js';

test('regular host file: sequential I/O moves the shared host offset; seeks go positional', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hostfd-'));
  const p = path.join(dir, 'f');
  fs.writeFileSync(p, 'hello world');
  const hfd = fs.openSync(p, 'r+');
  try {
    const f = newHostFD(hfd, linux.O_RDWR, { owned: false });
    const buf = new Uint8Array(5);
    assert.equal(f.read(buf, -1), 5);
    assert.equal(Buffer.from(buf).toString(), 'hello');
    // The host offset moved too: a plain host read continues after it.
    const hb = Buffer.alloc(3);
    assert.equal(fs.readSync(hfd, hb, 0, 3, null), 3);
    assert.equal(hb.toString(), ' wo');
    assert.equal(f.seek(0, linux.SEEK_CUR), 8, 'the guest sees the shared position');
    assert.equal(f.seek(-5, linux.SEEK_END), 6);
    assert.equal(f.read(buf, -1), 5);
    assert.equal(Buffer.from(buf).toString(), 'world');
    assert.equal(f.read(buf, 0), 5, 'pread');
    assert.equal(f.stat().size, 11);
    assert.equal(f.write(new TextEncoder().encode('!'), -1), 1);
    assert.equal(fs.readFileSync(p, 'utf8'), 'hello world!');
    assert.throws(() => f.seek(-100, linux.SEEK_SET), (e) => e === linuxerr.EINVAL);
  } finally {
    fs.closeSync(hfd);
    fs.rmSync(dir, { recursive: true });
  }
});

test('host stream: reads never block the Sentry; data and EOF arrive through the wait queue', async () => {
  const fds = new Int32Array(2);
  assert.equal(native.socketpair(1 /* AF_UNIX */, 1 /* SOCK_STREAM */, fds), 0);
  const f = newHostFD(fds[0], linux.O_RDWR, { owned: true });
  const q = f.impl.waitQueue!;
  const buf = new Uint8Array(16);
  assert.throws(() => f.read(buf, -1), (e) => e === linuxerr.EAGAIN);
  assert.equal(f.readiness(EVENT_IN), 0);
  const woke = new Promise<number>((resolve) => q.register(EVENT_IN, resolve));
  fs.writeSync(fds[1], 'ping');
  await woke;
  assert.equal(f.readiness(EVENT_IN), EVENT_IN);
  assert.equal(f.read(buf, -1), 4);
  assert.equal(Buffer.from(buf.subarray(0, 4)).toString(), 'ping');
  assert.equal(f.write(new TextEncoder().encode('pong'), -1), 4);
  const back = Buffer.alloc(4);
  assert.equal(fs.readSync(fds[1], back), 4);
  assert.equal(back.toString(), 'pong');
  assert.throws(() => f.read(buf, -1), (e) => e === linuxerr.EAGAIN);
  const eof = new Promise<number>((resolve) => q.register(EVENT_IN, resolve));
  fs.closeSync(fds[1]);
  await eof;
  assert.equal(f.read(buf, -1), 0);
  f.decRef();
});
