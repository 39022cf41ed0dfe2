// The Gofer's seccomp allowlist, installed once it has made its tree its
// root (src/runsc/boot/confine.ts enterTree). Path operations are allowed:
// serving the tree is the Gofer's job, and the tree is all its root holds.
// Absent: execve, mount and namespace changes, ptrace, new processes, every
// socket call but messages on the socket it was given. Calls outside the
// list fail with EPERM.

import { allowAll, learning, merge, nodeRuntime, rule } from '../seccomp/node_runtime.js';
import { compile, retErrno, SECCOMP_RET_KILL_PROCESS, SECCOMP_RET_LOG } from '../seccomp/seccomp.js';
import type { Rule } from '../seccomp/seccomp.js';

const EPERM = 1;

/** goferRules returns the Gofer's allowlist. */
export function goferRules(): Rule[] {
  const own: Rule[] = [
    ...allowAll(['open', 'openat', 'openat2'], 'opening files of the tree to hand their fds to the Sentry'),
    ...allowAll(['mkdir', 'mkdirat', 'rmdir', 'unlink', 'unlinkat', 'rename', 'renameat', 'renameat2', 'symlink', 'symlinkat',
      'link', 'linkat', 'mknodat', 'mknod'], 'changes to the tree (refused in read-only trees by the Gofer itself and by the read-only mount)'),
    ...allowAll(['chmod', 'fchmod', 'fchmodat', 'chown', 'fchown', 'lchown', 'fchownat', 'utimensat', 'truncate', 'ftruncate',
      'fallocate', 'fsync', 'fdatasync'], 'metadata and size changes'),
    ...allowAll(['stat', 'lstat', 'statfs', 'fstatfs', 'getdents64', 'access', 'faccessat', 'faccessat2'], 'reading the tree'),
    ...allowAll(['getxattr', 'lgetxattr', 'fgetxattr', 'listxattr', 'llistxattr', 'flistxattr', 'setxattr', 'lsetxattr', 'fsetxattr',
      'removexattr', 'lremovexattr', 'fremovexattr'], 'extended attributes of the tree'),
  ];
  return merge(nodeRuntime(), own);
}

/** goferFilter compiles the Gofer's filter. */
export function goferFilter(): Uint8Array {
  return compile({ rules: goferRules(), defaultAction: learning ? SECCOMP_RET_LOG : retErrno(EPERM), badArch: SECCOMP_RET_KILL_PROCESS });
}
