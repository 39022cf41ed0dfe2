import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { SandboxLimits, parseSize, testOnlyLimits } from './limits.js';

describe('SandboxLimits', () => {
  it('charges up to the budget, refuses past it, and frees on uncharge', () => {
    const l = new SandboxLimits();
    l.configure({ memoryLimit: 1000 });
    assert.ok(l.memoryBudget <= 1000);
    assert.equal(l.charge(600), true);
    assert.equal(l.charge(500), false);
    assert.equal(l.memoryUsed, 600);
    assert.equal(l.available(), l.memoryBudget - 600);
    l.uncharge(600);
    assert.equal(l.charge(1000), true);
    l.forceCharge(10);
    assert.equal(l.available(), 0);
  });
  it('counts files against maxFiles', () => {
    const l = new SandboxLimits();
    l.configure({ maxFiles: 2 });
    assert.equal(l.chargeFiles(2), true);
    assert.equal(l.chargeFiles(1), false);
    l.unchargeFiles(1);
    assert.equal(l.chargeFiles(1), true);
  });
  it('parses sizes and test-only settings', () => {
    assert.equal(parseSize('64M'), 64 << 20);
    assert.equal(parseSize('4k'), 4096);
    assert.ok(Number.isNaN(parseSize('x')));
    assert.deepEqual(testOnlyLimits({ TSVISOR_TESTONLY_MEMORY_LIMIT: '1G', TSVISOR_TESTONLY_MAX_TASKS: 'abc' }), { memoryLimit: 1 << 30 });
  });
});
