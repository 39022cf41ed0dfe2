// Rules for changing credentials (kernel/sys.c, security/commoncap.c): which
// id changes an unprivileged task may make, and how capabilities follow uid
// changes. Pure functions: each takes the old Credentials and returns new
// ones (Linux's prepare_creds/commit_creds), or throws EPERM/EINVAL.

import * as linuxerr from '../../abi/linux/errno.js';
import { ALL_CAPS, Credentials } from './creds.js';

export const CAP_CHOWN = 0;
export const CAP_DAC_OVERRIDE = 1;
export const CAP_DAC_READ_SEARCH = 2;
export const CAP_FOWNER = 3;
export const CAP_FSETID = 4;
export const CAP_KILL = 5;
export const CAP_SETGID = 6;
export const CAP_SETUID = 7;
export const CAP_SETPCAP = 8;
export const CAP_LINUX_IMMUTABLE = 9;
export const CAP_SYS_CHROOT = 18;
export const CAP_SYS_PTRACE = 19;
export const CAP_SYS_ADMIN = 21;
export const CAP_SYS_BOOT = 22;
export const CAP_SYS_NICE = 23;
export const CAP_SYS_RESOURCE = 24;
export const CAP_MKNOD = 27;
export const CAP_MAC_OVERRIDE = 32;
export const CAP_LAST_CAP = 40;

// securebits (include/uapi/linux/securebits.h).
export const SECURE_NOROOT = 0;
export const SECURE_NO_SETUID_FIXUP = 2;
export const SECURE_KEEP_CAPS = 4;
export const SECURE_NO_CAP_AMBIENT_RAISE = 6;
export const SECBIT_KEEP_CAPS = 1 << SECURE_KEEP_CAPS;
export const SECBIT_KEEP_CAPS_LOCKED = 1 << (SECURE_KEEP_CAPS + 1);
export const SECURE_ALL_BITS = (1 << SECURE_NOROOT) | (1 << SECURE_NO_SETUID_FIXUP) | (1 << SECURE_KEEP_CAPS) |
  (1 << SECURE_NO_CAP_AMBIENT_RAISE);
export const SECURE_ALL_LOCKS = SECURE_ALL_BITS << 1;

/** (uid_t)-1: "leave unchanged" in set*id calls, and never a valid id. */
export const NO_ID = 0xffff_ffff;

function bit(cap: number): bigint {
  return 1n << BigInt(cap);
}

/** Capabilities that follow the fsuid (CAP_FS_SET). */
export const CAP_FS_SET = bit(CAP_CHOWN) | bit(CAP_DAC_OVERRIDE) | bit(CAP_DAC_READ_SEARCH) | bit(CAP_FOWNER) |
  bit(CAP_FSETID) | bit(CAP_LINUX_IMMUTABLE) | bit(CAP_MKNOD) | bit(CAP_MAC_OVERRIDE);

export function capValid(cap: number): boolean {
  return cap >= 0 && cap <= CAP_LAST_CAP;
}

function secure(c: Credentials, b: number): boolean {
  return (c.securebits & (1 << b)) !== 0;
}

/** fixSetuid adjusts capabilities after a real/effective/saved uid change (cap_emulate_setxuid). */
function fixSetuid(n: Credentials, old: Credentials): void {
  if (secure(old, SECURE_NO_SETUID_FIXUP)) return;
  if ((old.uid === 0 || old.euid === 0 || old.suid === 0) && n.uid !== 0 && n.euid !== 0 && n.suid !== 0) {
    if (!secure(old, SECURE_KEEP_CAPS)) {
      n.capPermitted = 0n;
      n.capEffective = 0n;
    }
    n.capAmbient = 0n;
  }
  if (old.euid === 0 && n.euid !== 0) n.capEffective = 0n;
  if (old.euid !== 0 && n.euid === 0) n.capEffective = n.capPermitted;
}

/** fixSetfsuid moves the file-system capabilities with the fsuid leaving or reaching 0. */
function fixSetfsuid(n: Credentials, old: Credentials): void {
  if (secure(old, SECURE_NO_SETUID_FIXUP)) return;
  if (old.fsuid === 0 && n.fsuid !== 0) n.capEffective &= ~CAP_FS_SET;
  if (old.fsuid !== 0 && n.fsuid === 0) n.capEffective |= n.capPermitted & CAP_FS_SET;
}

/** setuid follows setuid(2): privileged sets all ids, others only the effective one. */
export function setuid(c: Credentials, uid: number): Credentials {
  if (uid === NO_ID) throw linuxerr.EINVAL;
  const n = c.clone();
  if (c.hasCap(CAP_SETUID)) {
    n.uid = uid;
    n.suid = uid;
  } else if (uid !== c.uid && uid !== c.suid) {
    throw linuxerr.EPERM;
  }
  n.euid = uid;
  n.fsuid = uid;
  fixSetuid(n, c);
  return n;
}

/** setreuid follows setreuid(2); NO_ID leaves an id unchanged. */
export function setreuid(c: Credentials, ruid: number, euid: number): Credentials {
  const n = c.clone();
  const priv = c.hasCap(CAP_SETUID);
  if (ruid !== NO_ID) {
    if (!priv && ruid !== c.uid && ruid !== c.euid) throw linuxerr.EPERM;
    n.uid = ruid;
  }
  if (euid !== NO_ID) {
    if (!priv && euid !== c.uid && euid !== c.euid && euid !== c.suid) throw linuxerr.EPERM;
    n.euid = euid;
  }
  if (ruid !== NO_ID || (euid !== NO_ID && euid !== c.uid)) n.suid = n.euid;
  n.fsuid = n.euid;
  fixSetuid(n, c);
  return n;
}

/** setresuid follows setresuid(2): unprivileged, each new id must be a current one. */
export function setresuid(c: Credentials, ruid: number, euid: number, suid: number): Credentials {
  if (!c.hasCap(CAP_SETUID)) {
    const ok = (id: number) => id === NO_ID || id === c.uid || id === c.euid || id === c.suid;
    if (!ok(ruid) || !ok(euid) || !ok(suid)) throw linuxerr.EPERM;
  }
  const n = c.clone();
  if (ruid !== NO_ID) n.uid = ruid;
  if (euid !== NO_ID) n.euid = euid;
  if (suid !== NO_ID) n.suid = suid;
  n.fsuid = n.euid;
  fixSetuid(n, c);
  return n;
}

/** setfsuid follows setfsuid(2); it returns the old fsuid whether or not it changed anything. */
export function setfsuid(c: Credentials, fsuid: number): { creds: Credentials; old: number } {
  const old = c.fsuid;
  if (fsuid === NO_ID) return { creds: c, old };
  if (fsuid === c.uid || fsuid === c.euid || fsuid === c.suid || fsuid === c.fsuid || c.hasCap(CAP_SETUID)) {
    if (fsuid !== old) {
      const n = c.clone();
      n.fsuid = fsuid;
      fixSetfsuid(n, c);
      return { creds: n, old };
    }
  }
  return { creds: c, old };
}

/** setgid follows setgid(2). */
export function setgid(c: Credentials, gid: number): Credentials {
  if (gid === NO_ID) throw linuxerr.EINVAL;
  const n = c.clone();
  if (c.hasCap(CAP_SETGID)) {
    n.gid = gid;
    n.sgid = gid;
  } else if (gid !== c.gid && gid !== c.sgid) {
    throw linuxerr.EPERM;
  }
  n.egid = gid;
  n.fsgid = gid;
  return n;
}

/** setregid follows setregid(2). */
export function setregid(c: Credentials, rgid: number, egid: number): Credentials {
  const n = c.clone();
  const priv = c.hasCap(CAP_SETGID);
  if (rgid !== NO_ID) {
    if (!priv && rgid !== c.gid && rgid !== c.egid) throw linuxerr.EPERM;
    n.gid = rgid;
  }
  if (egid !== NO_ID) {
    if (!priv && egid !== c.gid && egid !== c.egid && egid !== c.sgid) throw linuxerr.EPERM;
    n.egid = egid;
  }
  if (rgid !== NO_ID || (egid !== NO_ID && egid !== c.gid)) n.sgid = n.egid;
  n.fsgid = n.egid;
  return n;
}

/** setresgid follows setresgid(2). */
export function setresgid(c: Credentials, rgid: number, egid: number, sgid: number): Credentials {
  if (!c.hasCap(CAP_SETGID)) {
    const ok = (id: number) => id === NO_ID || id === c.gid || id === c.egid || id === c.sgid;
    if (!ok(rgid) || !ok(egid) || !ok(sgid)) throw linuxerr.EPERM;
  }
  const n = c.clone();
  if (rgid !== NO_ID) n.gid = rgid;
  if (egid !== NO_ID) n.egid = egid;
  if (sgid !== NO_ID) n.sgid = sgid;
  n.fsgid = n.egid;
  return n;
}

/** setfsgid follows setfsgid(2); returns the old fsgid. */
export function setfsgid(c: Credentials, fsgid: number): { creds: Credentials; old: number } {
  const old = c.fsgid;
  if (fsgid === NO_ID || fsgid === old) return { creds: c, old };
  if (fsgid === c.gid || fsgid === c.egid || fsgid === c.sgid || c.hasCap(CAP_SETGID)) {
    const n = c.clone();
    n.fsgid = fsgid;
    return { creds: n, old };
  }
  return { creds: c, old };
}

/** NGROUPS_MAX: the most supplementary groups a task may have. */
export const NGROUPS_MAX = 65536;

/** setgroups replaces the supplementary groups (CAP_SETGID required); kept sorted like Linux. */
export function setgroups(c: Credentials, groups: number[]): Credentials {
  if (!c.hasCap(CAP_SETGID)) throw linuxerr.EPERM;
  if (groups.length > NGROUPS_MAX) throw linuxerr.EINVAL;
  const n = c.clone();
  n.groups = [...groups].sort((x, y) => x - y);
  return n;
}

/** CapSets: the three sets capset(2) writes. */
export interface CapSets {
  effective: bigint;
  permitted: bigint;
  inheritable: bigint;
}

/** capset follows cap_capset: no new permitted caps, effective within permitted,
 *  inheritable within (inheritable|permitted) unless CAP_SETPCAP, and within bounding. */
export function capset(c: Credentials, s: CapSets): Credentials {
  const e = s.effective & ALL_CAPS;
  const p = s.permitted & ALL_CAPS;
  const i = s.inheritable & ALL_CAPS;
  const within = (x: bigint, set: bigint) => (x & ~set) === 0n;
  if (!c.hasCap(CAP_SETPCAP) && !within(i, c.capInheritable | c.capPermitted)) throw linuxerr.EPERM;
  if (!within(i, c.capInheritable | c.capBounding)) throw linuxerr.EPERM;
  if (!within(p, c.capPermitted)) throw linuxerr.EPERM;
  if (!within(e, p)) throw linuxerr.EPERM;
  const n = c.clone();
  n.capEffective = e;
  n.capPermitted = p;
  n.capInheritable = i;
  n.capAmbient &= p & i;
  return n;
}

/** ExecFile is what execve's credential change looks at in the executed file. */
export interface ExecFile {
  mode: number;
  uid: number;
  gid: number;
  /** nosuid is set when the file's mount has nosuid: set-id bits are ignored. */
  nosuid: boolean;
}

const S_ISUID = 0o4000;
const S_ISGID = 0o2000;
const S_IXGRP = 0o010;

/** execCreds computes the credentials a task runs the new image with
 *  (bprm_fill_uid and cap_bprm_creds_from_file, without file capabilities):
 *  set-user/group-id bits change the effective ids; capabilities are
 *  recomputed, root (real or effective) getting its bounding and inheritable
 *  sets back and anyone else keeping only ambient ones. secure is AT_SECURE:
 *  the image runs with privileges its caller did not have. */
export function execCreds(c: Credentials, f: ExecFile): { creds: Credentials; secure: boolean } {
  const n = c.clone();
  // no_new_privs makes set-id bits inert, as a nosuid mount does.
  if (!f.nosuid && !c.noNewPrivs) {
    if (f.mode & S_ISUID) n.euid = f.uid;
    // S_ISGID without group execute is mandatory locking, not set-gid.
    if ((f.mode & (S_ISGID | S_IXGRP)) === (S_ISGID | S_IXGRP)) n.egid = f.gid;
  }
  const isSetid = n.euid !== c.uid || n.egid !== c.gid;
  n.capPermitted = 0n;
  let effective = false;
  if (!secure(c, SECURE_NOROOT)) {
    if (n.euid === 0 || n.uid === 0) n.capPermitted = c.capBounding | c.capInheritable;
    if (n.euid === 0) effective = true;
  }
  // Under no_new_privs an exec never gains capabilities.
  if (c.noNewPrivs) n.capPermitted &= c.capPermitted;
  n.suid = n.fsuid = n.euid;
  n.sgid = n.fsgid = n.egid;
  if (isSetid) n.capAmbient = 0n;
  n.capPermitted |= n.capAmbient;
  n.capEffective = effective ? n.capPermitted : n.capAmbient;
  n.securebits &= ~SECBIT_KEEP_CAPS;
  const grew = (n.capPermitted & ~n.capAmbient) !== 0n;
  return { creds: n, secure: isSetid || (n.uid !== 0 && (effective || grew)) };
}
