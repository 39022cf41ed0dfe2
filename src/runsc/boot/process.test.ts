import { test } from 'node:test';
import assert from 'node:assert/strict';
import { credentialsFor, rlimitsFor } from './process.js';
import { defaultRlimits } from '../../sentry/kernel/thread_group.js';
import type { Process } from '../specutils/spec.js';

const CHOWN = 1n << 0n;
const KILL = 1n << 5n;
const NET_BIND = 1n << 10n;

test('root gets its bounding and inheritable sets as permitted and effective', () => {
  const p: Process = { user: { uid: 0, gid: 0, additionalGids: [5, 6] }, cwd: '/', args: ['x'],
    capabilities: { bounding: ['CAP_CHOWN', 'CAP_KILL'], effective: ['CAP_CHOWN'], permitted: ['CAP_CHOWN'], inheritable: [] } };
  const c = credentialsFor(p);
  assert.equal(c.capBounding, CHOWN | KILL);
  assert.equal(c.capPermitted, CHOWN | KILL);
  assert.equal(c.capEffective, CHOWN | KILL);
  assert.deepEqual(c.groups, [5, 6]);
  assert.equal(c.euid, 0);
});

test('another uid keeps only its ambient capabilities', () => {
  const p: Process = { user: { uid: 1000, gid: 1001 }, cwd: '/', args: ['x'], noNewPrivileges: true,
    capabilities: { bounding: ['CAP_KILL', 'CAP_NET_BIND_SERVICE'], permitted: ['CAP_KILL', 'CAP_NET_BIND_SERVICE'],
      inheritable: ['CAP_NET_BIND_SERVICE'], ambient: ['CAP_NET_BIND_SERVICE', 'CAP_KILL'] } };
  const c = credentialsFor(p);
  assert.equal(c.uid, 1000);
  assert.equal(c.fsgid, 1001);
  assert.equal(c.capAmbient, NET_BIND, 'ambient must be permitted and inheritable');
  assert.equal(c.capPermitted, NET_BIND);
  assert.equal(c.capEffective, NET_BIND);
  assert.equal(c.noNewPrivs, true);
  const none = credentialsFor({ user: { uid: 1, gid: 1 }, cwd: '/', args: ['x'] });
  assert.equal(none.capEffective, 0n);
});

test('without --net-raw no process gets CAP_NET_RAW; with it, the spec decides', () => {
  const NET_RAW = 1n << 13n;
  const p: Process = { user: { uid: 0, gid: 0 }, cwd: '/', args: ['x'],
    capabilities: { bounding: ['CAP_KILL', 'CAP_NET_RAW'], permitted: ['CAP_NET_RAW'], inheritable: ['CAP_NET_RAW'], ambient: ['CAP_NET_RAW'] } };
  for (const c of [credentialsFor(p), credentialsFor({ user: { uid: 0, gid: 0 }, cwd: '/', args: ['x'] })]) {
    for (const set of [c.capBounding, c.capPermitted, c.capEffective, c.capInheritable, c.capAmbient]) assert.equal(set & NET_RAW, 0n);
  }
  assert.equal(credentialsFor(p).capEffective, KILL);
  const raw = credentialsFor(p, [], true);
  assert.equal(raw.capEffective, KILL | NET_RAW);
  assert.equal(raw.capAmbient, NET_RAW);
  assert.equal(credentialsFor({ user: { uid: 0, gid: 0 }, cwd: '/', args: ['x'] }, [], true).capEffective & NET_RAW, NET_RAW, 'do: root has all');
  assert.equal(credentialsFor({ ...p, capabilities: { bounding: ['CAP_KILL'] } }, [], true).capEffective & NET_RAW, 0n, 'not in the spec');
});

test('rlimits override the inherited ones; 2^64-1 is infinity', () => {
  const r = rlimitsFor({ user: { uid: 0, gid: 0 }, cwd: '/', args: ['x'],
    rlimits: [{ type: 'RLIMIT_NOFILE', soft: 100, hard: 200 }, { type: 'RLIMIT_CORE', soft: 2 ** 64 - 1, hard: 2 ** 64 - 1 }] },
  defaultRlimits());
  assert.deepEqual(r[7], [100, 200]);
  assert.deepEqual(r[4], [Infinity, Infinity]);
  assert.deepEqual(r[3], defaultRlimits()[3]);
});
