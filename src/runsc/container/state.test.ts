import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Lock, RuntimeError, listIDs, procStartTime, statusOf, validateID, writeState } from './state.js';
import type { ContainerState } from './state.js';
import { relativePath } from './cgroup.js';

test('container ids follow runc\'s rule', () => {
  for (const id of ['a', 'abc-DEF_1.2+3', '0123456789abcdef'.repeat(4)]) assert.equal(validateID(id), id);
  for (const id of ['', 'a/b', 'a b', '..', '.', 'x:y']) assert.throws(() => validateID(id), RuntimeError, id);
});

test('status: a dead or finished sandbox process means stopped', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsv-state-'));
  try {
    const s: ContainerState = {
      ociVersion: '1.0.2', id: 'x', bundle: '/b', rootfs: '/b/rootfs', pid: process.pid, pidStart: procStartTime(process.pid),
      status: 'running', created: new Date().toISOString(), owner: 'root', annotations: {}, hooks: {}, cgroupDirs: [], terminal: false,
    };
    assert.ok(s.pidStart > 0);
    assert.equal(statusOf(dir, s), 'running');
    assert.equal(statusOf(dir, { ...s, pidStart: s.pidStart + 1 }), 'stopped', 'a reused pid is not the sandbox');
    assert.equal(statusOf(dir, { ...s, pid: 0 }), 'stopped');
    fs.writeFileSync(path.join(dir, 'exit'), JSON.stringify({ status: 0, code: 0, time: '' }));
    assert.equal(statusOf(dir, s), 'stopped');
    fs.mkdirSync(path.join(dir, 'root', 'c1'), { recursive: true });
    fs.mkdirSync(path.join(dir, 'root', 'c0'), { recursive: true });
    writeState(path.join(dir, 'root', 'c1'), s);
    writeState(path.join(dir, 'root', 'c0'), s);
    fs.mkdirSync(path.join(dir, 'root', 'no-state'));
    assert.deepEqual(listIDs(path.join(dir, 'root')), ['c0', 'c1']);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a lock on a deleted directory is refused', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsv-lock-'));
  const l = Lock.acquire(dir, 'gone');
  l.unlock();
  fs.rmdirSync(dir);
  assert.throws(() => Lock.acquire(dir, 'gone'), /gone/);
});

test('cgroupsPath: paths and systemd slices', () => {
  assert.equal(relativePath('/docker/abc', false), 'docker/abc');
  assert.equal(relativePath('foo/../bar', false), 'bar');
  assert.equal(relativePath('system.slice:docker:abc', true), 'system.slice/docker-abc.scope');
  assert.equal(relativePath('machine-a.slice:libpod:x', true), 'machine.slice/machine-a.slice/libpod-x.scope');
  assert.equal(relativePath(':docker:abc', true), 'system.slice/docker-abc.scope');
});
