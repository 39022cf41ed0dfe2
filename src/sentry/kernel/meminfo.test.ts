import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Platform } from '../../platform/platform.js';
import { resetSandboxLimits } from './limits.js';
import { memInfo } from './meminfo.js';

const MiB = 1 << 20;

function platformUsing(bytes: number): Platform {
  return { memoryUsage: () => bytes } as unknown as Platform;
}

test('a sandbox with a memory limit shows it as its total, less what it holds as free', () => {
  const limits = resetSandboxLimits();
  limits.configure({ memoryLimit: 256 * MiB });
  limits.forceCharge(16 * MiB); // tmpfs data, pipe buffers
  const m = memInfo(platformUsing(100 * MiB));
  assert.equal(m.total, 256 * MiB);
  assert.equal(m.anon, 100 * MiB);
  assert.equal(m.sentry, 16 * MiB);
  assert.equal(m.free, 140 * MiB);
  // Using more than the limit shows no free memory, not a negative amount.
  assert.equal(memInfo(platformUsing(300 * MiB)).free, 0);
  resetSandboxLimits();
});

test('without a limit the total is the host memory and free never exceeds the host', () => {
  resetSandboxLimits();
  const m = memInfo(platformUsing(0));
  assert.ok(m.total > 0);
  assert.ok(m.free <= m.total);
});
