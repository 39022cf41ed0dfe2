import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { cachePath, compileBundle, makeCodeCache } from './bundle_script.js';

const src = (v: string): Buffer => Buffer.from(`module.exports.f = () => ${JSON.stringify(v)} + __tsvisor_url + typeof require('node:fs').readFileSync;`);

function run(code: Buffer, cache?: Buffer): { value: string; cached: boolean } {
  const { main, cached } = compileBundle(code, '/x/b.cjs', cache);
  const module = { exports: {} as { f?: () => string } };
  main(module.exports, createRequire(import.meta.url), module, '/x/b.cjs', '/x', 'file:///x/b.cjs');
  return { value: module.exports.f!(), cached };
}

test('a bundle runs with CommonJS arguments and its import.meta.url, with or without its cache', () => {
  assert.deepEqual(run(src('a')), { value: 'afile:///x/b.cjsfunction', cached: false });
  assert.deepEqual(run(src('a'), makeCodeCache(src('a'), '/x/b.cjs')), { value: 'afile:///x/b.cjsfunction', cached: true });
});

test('a cache made from another source of the same length is not used', () => {
  const stale = makeCodeCache(src('a'), '/x/b.cjs');
  assert.deepEqual(run(src('b'), stale), { value: 'bfile:///x/b.cjsfunction', cached: false });
  assert.equal(run(src('b'), Buffer.alloc(8)).cached, false);
});

test('non-ASCII source text survives', () => {
  assert.equal(run(src('µs')).value, 'µsfile:///x/b.cjsfunction');
});

test('cachePath names one cache per set of node options', () => {
  assert.equal(cachePath('/d/runsc', []), '/d/runsc.cache');
  assert.equal(cachePath('/d/runsc', ['--max-semi-space-size=32']), '/d/runsc.max-semi-space-size=32.cache');
  assert.notEqual(cachePath('/d/runsc', ['--a=1']), cachePath('/d/runsc', ['--a=2']));
});
