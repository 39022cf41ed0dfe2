import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NS_TYPES, checkNamespacePaths, nsTypeOf } from './namespaces.js';
import type { Spec } from './spec.js';

const spec = (namespaces: { type: string; path?: string }[]): Spec => ({ ociVersion: '1.0.2', linux: { namespaces } } as Spec);

test('nsTypeOf reads the type of a namespace file; other files are refused', () => {
  assert.equal(nsTypeOf('/proc/self/ns/ipc'), NS_TYPES.ipc);
  assert.equal(nsTypeOf('/proc/self/ns/mnt'), NS_TYPES.mount);
  assert.throws(() => nsTypeOf('/proc/self/status'), /not a namespace file/);
  assert.throws(() => nsTypeOf('/nonexistent/ns'), /ENOENT/);
});

test('checkNamespacePaths: a path must name a namespace of its type; paths other than network are not joined', () => {
  assert.deepEqual(checkNamespacePaths(spec([{ type: 'ipc', path: '/proc/self/ns/ipc' }, { type: 'network', path: '/proc/self/ns/net' }, { type: 'pid' }])), ['ipc']);
  assert.throws(() => checkNamespacePaths(spec([{ type: 'cgroup', path: '/proc/self/ns/ipc' }])), /is not a cgroup namespace \(it is ipc\)/);
  assert.throws(() => checkNamespacePaths(spec([{ type: 'uts' }, { type: 'uts' }])), /given twice/);
  assert.throws(() => checkNamespacePaths(spec([{ type: 'bogus' }])), /unknown namespace type/);
});
