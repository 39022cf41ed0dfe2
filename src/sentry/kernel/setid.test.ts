import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as linuxerr from '../../abi/linux/errno.js';
import { ALL_CAPS, Credentials } from './creds.js';
import * as setid from './setid.js';

function user(uid: number, gid = uid): Credentials {
  const c = new Credentials();
  c.uid = c.euid = c.suid = c.fsuid = uid;
  c.gid = c.egid = c.sgid = c.fsgid = gid;
  c.capEffective = c.capPermitted = 0n;
  return c;
}

test('root setuid sets every uid and drops all capabilities', () => {
  const root = new Credentials();
  const n = setid.setuid(root, 1000);
  assert.deepEqual([n.uid, n.euid, n.suid, n.fsuid], [1000, 1000, 1000, 1000]);
  assert.equal(n.capEffective, 0n);
  assert.equal(n.capPermitted, 0n);
  // The old credentials are untouched (copy on write).
  assert.equal(root.uid, 0);
  assert.equal(root.capEffective, ALL_CAPS);
});

test('keepcaps keeps permitted caps across setuid from root, effective still cleared', () => {
  const root = new Credentials();
  root.securebits = setid.SECBIT_KEEP_CAPS;
  const n = setid.setuid(root, 1000);
  assert.equal(n.capPermitted, ALL_CAPS);
  assert.equal(n.capEffective, 0n);
});

test('seteuid away from root and back restores effective caps from permitted', () => {
  const root = new Credentials();
  const away = setid.setresuid(root, setid.NO_ID, 1000, setid.NO_ID);
  assert.deepEqual([away.uid, away.euid, away.suid], [0, 1000, 0]);
  assert.equal(away.capEffective, 0n);
  assert.equal(away.capPermitted, ALL_CAPS);
  // Without CAP_SETUID in effect, going back is allowed because 0 is the real/saved uid.
  const back = setid.setresuid(away, setid.NO_ID, 0, setid.NO_ID);
  assert.equal(back.euid, 0);
  assert.equal(back.capEffective, ALL_CAPS);
});

test('unprivileged setuid may only pick the real or saved uid', () => {
  const c = user(1000);
  c.suid = 2000;
  assert.equal(setid.setuid(c, 2000).euid, 2000);
  assert.equal(setid.setuid(c, 2000).uid, 1000); // real and saved unchanged without privilege
  assert.throws(() => setid.setuid(c, 3000), linuxerr.EPERM);
  assert.throws(() => setid.setuid(c, setid.NO_ID), linuxerr.EINVAL);
});

test('setreuid rules: saved uid follows a real change', () => {
  const c = user(1000);
  c.euid = 2000;
  c.suid = 3000;
  assert.throws(() => setid.setreuid(c, 3000, setid.NO_ID), linuxerr.EPERM); // ruid must be uid or euid
  const n = setid.setreuid(c, 2000, 1000);
  assert.deepEqual([n.uid, n.euid, n.suid, n.fsuid], [2000, 1000, 1000, 1000]);
  const e = setid.setreuid(c, setid.NO_ID, 3000); // euid may be the saved one
  assert.deepEqual([e.uid, e.euid, e.suid], [1000, 3000, 3000]);
});

test('setresuid unprivileged: each id must be one of the current three', () => {
  const c = user(1000);
  c.suid = 2000;
  assert.throws(() => setid.setresuid(c, 5, setid.NO_ID, setid.NO_ID), linuxerr.EPERM);
  const n = setid.setresuid(c, 2000, 2000, 1000);
  assert.deepEqual([n.uid, n.euid, n.suid], [2000, 2000, 1000]);
});

test('setfsuid returns the old fsuid and moves file-system capabilities', () => {
  const root = new Credentials();
  const r = setid.setfsuid(root, 1000);
  assert.equal(r.old, 0);
  assert.equal(r.creds.fsuid, 1000);
  assert.equal(r.creds.capEffective & setid.CAP_FS_SET, 0n);
  assert.ok(r.creds.hasCap(setid.CAP_SETUID));
  const back = setid.setfsuid(r.creds, 0);
  assert.equal(back.old, 1000);
  assert.equal(back.creds.capEffective, ALL_CAPS);
  // Query with -1 changes nothing; unprivileged cannot pick an unrelated id.
  assert.equal(setid.setfsuid(r.creds, setid.NO_ID).creds, r.creds);
  const u = user(1000);
  assert.equal(setid.setfsuid(u, 5).creds.fsuid, 1000);
});

test('gid rules mirror uid rules without capability changes', () => {
  const c = user(1000, 100);
  assert.throws(() => setid.setgid(c, 0), linuxerr.EPERM);
  assert.throws(() => setid.setresgid(c, 7, setid.NO_ID, setid.NO_ID), linuxerr.EPERM);
  const root = new Credentials();
  const n = setid.setregid(root, 5, 6);
  assert.deepEqual([n.gid, n.egid, n.sgid, n.fsgid], [5, 6, 6, 6]);
  assert.equal(n.capEffective, ALL_CAPS);
});

test('setgroups needs CAP_SETGID and sorts', () => {
  assert.throws(() => setid.setgroups(user(1), [1]), linuxerr.EPERM);
  assert.deepEqual(setid.setgroups(new Credentials(), [30, 10, 20]).groups, [10, 20, 30]);
});

test('capset: no new permitted caps, effective within permitted', () => {
  const c = new Credentials();
  const some = (1n << 5n) | (1n << 7n);
  const n = setid.capset(c, { effective: 1n << 5n, permitted: some, inheritable: 0n });
  assert.equal(n.capPermitted, some);
  assert.throws(() => setid.capset(n, { effective: 0n, permitted: some | 1n, inheritable: 0n }), linuxerr.EPERM);
  assert.throws(() => setid.capset(n, { effective: 1n, permitted: some, inheritable: 0n }), linuxerr.EPERM);
  // Without CAP_SETPCAP, inheritable must stay within inheritable|permitted.
  assert.throws(() => setid.capset(n, { effective: 0n, permitted: some, inheritable: 1n << 20n }), linuxerr.EPERM);
});

test('execCreds: capabilities kept with KEEP_CAPS do not survive exec by a non-root user', () => {
  const c = user(1000);
  c.capPermitted = c.capEffective = ALL_CAPS;
  c.securebits = setid.SECBIT_KEEP_CAPS;
  const r = setid.execCreds(c, { mode: 0o100755, uid: 0, gid: 0, nosuid: false });
  assert.equal(r.creds.capPermitted, 0n);
  assert.equal(r.creds.capEffective, 0n);
  assert.equal(r.creds.securebits & setid.SECBIT_KEEP_CAPS, 0);
  assert.equal(r.secure, false);
});

test('execCreds: set-user-id root gives euid 0, the bounding set and AT_SECURE; nosuid and no_new_privs do not', () => {
  const suid = { mode: 0o104755, uid: 0, gid: 0, nosuid: false };
  const r = setid.execCreds(user(1000), suid);
  assert.deepEqual([r.creds.uid, r.creds.euid, r.creds.suid, r.creds.fsuid], [1000, 0, 0, 0]);
  assert.equal(r.creds.capEffective, ALL_CAPS);
  assert.equal(r.secure, true);
  assert.equal(setid.execCreds(user(1000), { ...suid, nosuid: true }).creds.euid, 1000);
  const nnp = user(1000);
  nnp.noNewPrivs = true;
  const rn = setid.execCreds(nnp, suid);
  assert.equal(rn.creds.euid, 1000);
  assert.equal(rn.creds.capPermitted, 0n);
});

test('execCreds: set-group-id needs group execute; ambient caps survive a plain exec only', () => {
  const sg = setid.execCreds(user(1000), { mode: 0o102755, uid: 0, gid: 42, nosuid: false });
  assert.deepEqual([sg.creds.gid, sg.creds.egid, sg.creds.sgid], [1000, 42, 42]);
  assert.equal(setid.execCreds(user(1000), { mode: 0o102745, uid: 0, gid: 42, nosuid: false }).creds.egid, 1000);
  const amb = user(1000);
  amb.capPermitted = amb.capInheritable = amb.capAmbient = 1n << 10n;
  const plain = setid.execCreds(amb, { mode: 0o100755, uid: 0, gid: 0, nosuid: false });
  assert.equal(plain.creds.capEffective, 1n << 10n);
  assert.equal(plain.secure, false);
  assert.equal(setid.execCreds(amb, { mode: 0o102755, uid: 0, gid: 42, nosuid: false }).creds.capAmbient, 0n);
});
