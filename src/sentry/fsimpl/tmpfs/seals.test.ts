import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as linuxerr from '../../../abi/linux/errno.js';
import {
  F_SEAL_EXEC, F_SEAL_FUTURE_WRITE, F_SEAL_GROW, F_SEAL_SEAL, F_SEAL_SHRINK, F_SEAL_WRITE,
  addSeals, checkChmod, checkResize, writeLength, writeSealed,
} from './seals.js';

test('writeLength: unsealed and shrink-only files take the whole write', () => {
  assert.equal(writeLength(0, 0, 100, 50), 50);
  assert.equal(writeLength(F_SEAL_SEAL | F_SEAL_SHRINK, 10, 100, 50), 50);
});

test('writeLength: write seals refuse every non-empty write', () => {
  assert.throws(() => writeLength(F_SEAL_WRITE, 100, 0, 1), (e) => e === linuxerr.EPERM);
  assert.throws(() => writeLength(F_SEAL_FUTURE_WRITE, 100, 0, 1), (e) => e === linuxerr.EPERM);
  assert.equal(writeLength(F_SEAL_WRITE, 100, 0, 0), 0);
});

test('writeLength: F_SEAL_GROW stores whole pages inside the file', () => {
  assert.equal(writeLength(F_SEAL_GROW, 100, 90, 10), 10);
  assert.throws(() => writeLength(F_SEAL_GROW, 100, 95, 10), (e) => e === linuxerr.EPERM);
  assert.equal(writeLength(F_SEAL_GROW, 8192, 4096, 8192), 4096);
  assert.equal(writeLength(F_SEAL_GROW, 8192, 4000, 8192), 4192);
  assert.equal(writeLength(F_SEAL_GROW, 8192, 8190, 100), 2);
  assert.throws(() => writeLength(F_SEAL_GROW, 8192, 8192, 1), (e) => e === linuxerr.EPERM);
});

test('checkResize and checkChmod', () => {
  assert.throws(() => checkResize(F_SEAL_SHRINK, 100, 50), (e) => e === linuxerr.EPERM);
  checkResize(F_SEAL_SHRINK, 100, 200);
  assert.throws(() => checkResize(F_SEAL_GROW, 100, 200), (e) => e === linuxerr.EPERM);
  checkResize(F_SEAL_GROW | F_SEAL_SHRINK, 100, 100);
  assert.throws(() => checkChmod(F_SEAL_EXEC, 0o644, 0o744), (e) => e === linuxerr.EPERM);
  checkChmod(F_SEAL_EXEC, 0o644, 0o600);
  checkChmod(0, 0o644, 0o755);
});

test('addSeals: order of errors and W^X', () => {
  const never = (): boolean => false;
  assert.throws(() => addSeals(F_SEAL_SEAL, 0x40, 0o777, never), (e) => e === linuxerr.EINVAL);
  assert.throws(() => addSeals(F_SEAL_SEAL, 0, 0o777, never), (e) => e === linuxerr.EPERM);
  assert.equal(addSeals(0, F_SEAL_GROW, 0o777, never), F_SEAL_GROW);
  assert.equal(addSeals(0, F_SEAL_EXEC, 0o666, never), F_SEAL_EXEC);
  assert.equal(addSeals(0, F_SEAL_EXEC, 0o755, never), 0x3e);
  const mapped = (): boolean => true;
  assert.throws(() => addSeals(0, F_SEAL_WRITE, 0o666, mapped), (e) => e === linuxerr.EBUSY);
  assert.throws(() => addSeals(0, F_SEAL_EXEC, 0o700, mapped), (e) => e === linuxerr.EBUSY);
  assert.equal(addSeals(F_SEAL_WRITE, F_SEAL_WRITE, 0o666, mapped), F_SEAL_WRITE);
  assert.equal(writeSealed(F_SEAL_FUTURE_WRITE), true);
  assert.equal(writeSealed(F_SEAL_GROW | F_SEAL_SEAL), false);
});
