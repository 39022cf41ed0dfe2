// Credentials of a task (Linux's struct cred): real, effective, saved and
// file-system ids, supplementary groups and capability sets.

/** All capabilities up to CAP_CHECKPOINT_RESTORE (40). */
export const ALL_CAPS = (1n << 41n) - 1n;

export class Credentials {
  uid = 0;
  euid = 0;
  suid = 0;
  fsuid = 0;
  gid = 0;
  egid = 0;
  sgid = 0;
  fsgid = 0;
  groups: number[] = [];
  capEffective = ALL_CAPS;
  capPermitted = ALL_CAPS;
  capInheritable = 0n;
  capBounding = ALL_CAPS;
  capAmbient = 0n;
  /** securebits (SECBIT_KEEP_CAPS...), see prctl(2). */
  securebits = 0;
  /** no_new_privs is per task in Linux; it lives here because credentials are
   *  copied on clone and kept across execve, which is exactly its inheritance. */
  noNewPrivs = false;

  clone(): Credentials {
    const c = new Credentials();
    Object.assign(c, this);
    c.groups = [...this.groups];
    return c;
  }

  /** hasCap reports whether the effective set holds cap. */
  hasCap(cap: number): boolean {
    return (this.capEffective & (1n << BigInt(cap))) !== 0n;
  }
}
