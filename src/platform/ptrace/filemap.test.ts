import { test } from 'node:test';
import assert from 'node:assert/strict';
import { closeSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { forget, MAP_MIN_SIZE, mappingOf } from './filemap.js';

function hostFile(p: string, stable: boolean): { hostFd(): number; stable: boolean; close(): void } {
  const fd = openSync(p, 'r');
  return { hostFd: () => fd, stable, close: () => closeSync(fd) };
}

test('filemap maps a stable file on its second read, covering its size', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'filemap-'));
  try {
    const p = path.join(dir, 'big');
    writeFileSync(p, Buffer.alloc(MAP_MIN_SIZE + 100, 7));
    const f = hostFile(p, true);
    assert.equal(mappingOf(f).addr, 0, 'first read goes the pread way');
    const m = mappingOf(f);
    assert.ok(m.addr > 0, 'second read maps');
    assert.equal(m.size, MAP_MIN_SIZE + 100);
    assert.equal(mappingOf(f), m, 'the mapping is reused');
    forget(f);
    assert.equal(mappingOf(f).addr, 0, 'a forgotten file is not mapped again');
    f.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('filemap never maps unstable or small files', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'filemap-'));
  try {
    const big = path.join(dir, 'big');
    const small = path.join(dir, 'small');
    writeFileSync(big, Buffer.alloc(MAP_MIN_SIZE, 1));
    writeFileSync(small, Buffer.alloc(MAP_MIN_SIZE - 1, 1));
    const u = hostFile(big, false);
    const s = hostFile(small, true);
    for (let i = 0; i < 3; i++) {
      assert.equal(mappingOf(u).addr, 0);
      assert.equal(mappingOf(s).addr, 0);
    }
    u.close();
    s.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
