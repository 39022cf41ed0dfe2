import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cgroupLimitsOf, cpuWeight } from './cgroupfs.js';

test('cgroupLimitsOf: the spec resources as cgroup v2 shows them', () => {
  const l = cgroupLimitsOf({ memory: { limit: 128 << 20, swap: 256 << 20 }, cpu: { quota: 150000, period: 100000, shares: 1024 },
    pids: { limit: 50 } });
  assert.deepEqual(l, { memoryMax: 128 << 20, swapMax: 128 << 20, cpuQuota: 150000, cpuPeriod: 100000, cpuShares: 1024,
    cpus: undefined, pidsMax: 50 });
  assert.deepEqual(cgroupLimitsOf({ memory: { limit: -1 }, cpu: { quota: -1 }, pids: { limit: 0 } }).memoryMax, undefined);
});

test('cpuWeight converts shares as runc does', () => {
  assert.equal(cpuWeight(undefined), 100);
  assert.equal(cpuWeight(1024), 39);
  assert.equal(cpuWeight(2), 1);
  assert.equal(cpuWeight(262144), 10000);
});
