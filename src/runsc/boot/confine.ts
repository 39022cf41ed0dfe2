// Confinement of a sandbox process from the inside, once it has started in
// the namespaces launch.ts gave it (its own user, mount, PID, IPC, UTS and
// usually network namespace). The Sentry ends with an empty, read-only root
// holding only the procfs of its PID namespace, and a seccomp allowlist; the
// Gofer ends with the tree it serves as its root. Both steps come after every
// module is loaded and every host file the process needs is open: nothing is
// opened by path afterwards.

import { closeSync, mkdirSync, openSync } from 'node:fs';
import { check, native } from '../../platform/ptrace/native.js';
import { hostProcDir, reopenHostProcDir } from '../../platform/hostproc.js';
import { SECCOMP_FILTER_FLAG_TSYNC } from '../../seccomp/seccomp.js';
import { sentryFilter } from './filter.js';

const MS_RDONLY = 0x1;
const MS_NOSUID = 0x2;
const MS_NODEV = 0x4;
const MS_NOEXEC = 0x8;
const MS_REMOUNT = 0x20;
const MS_BIND = 0x1000;
const MS_REC = 0x4000;
const MS_PRIVATE = 0x40000;
const MNT_DETACH = 2;
const AT_RECURSIVE = 0x8000;
const MOUNT_ATTR_RDONLY = 0x1;
const MOUNT_ATTR_NOSUID = 0x2;

/** makeMountsPrivate stops mount events from crossing between this mount
 *  namespace and the host's, in either direction. */
export function makeMountsPrivate(): void {
  check('mount(/, MS_REC|MS_PRIVATE)', native.mount('', '/', '', MS_REC | MS_PRIVATE, ''));
}

/** mountOwnProc mounts the procfs of the process's PID namespace over /proc,
 *  so that /proc/<pid> names the sandbox's own processes (the stubs). */
export function mountOwnProc(): void {
  check('mount proc', native.mount('proc', '/proc', 'proc', MS_NOSUID | MS_NODEV | MS_NOEXEC, ''));
}

/** MOUNT_POINTS are directories one of which exists on any Linux host; the
 *  new root is built on a tmpfs mounted over one of them (in the sandbox's
 *  mount namespace only). */
const MOUNT_POINTS = ['/tmp', '/mnt', '/var/tmp', '/run', '/dev'];

function mountScratch(): string {
  for (const dir of MOUNT_POINTS) {
    if (native.mount('tsvisor-root', dir, 'tmpfs', MS_NOSUID | MS_NODEV | MS_NOEXEC, 'mode=0555,size=64k') === 0) return dir;
  }
  throw new Error('confine: no directory to build the empty root on');
}

/** pivotHere makes the current directory the root and detaches the old one. */
function pivotHere(): void {
  // pivot_root(".", ".") stacks the old root on the new one; unmounting "."
  // then removes the old root and everything under it from this namespace.
  check('pivot_root', native.pivotRoot('.', '.'));
  check('umount old root', native.umount2('.', MNT_DETACH));
  check('chdir /', native.chdir('/'));
}

/** enterEmptyRoot gives the Sentry a read-only root holding only /proc (its
 *  PID namespace's), and opens the /proc directory fd it reads through. */
export function enterEmptyRoot(): void {
  const dir = mountScratch();
  mkdirSync(`${dir}/proc`, { mode: 0o555 });
  check('mount proc', native.mount('proc', `${dir}/proc`, 'proc', MS_NOSUID | MS_NODEV | MS_NOEXEC, ''));
  check('chdir', native.chdir(dir));
  pivotHere();
  check('remount / read-only',
    native.mount('', '/', '', MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, 'mode=0555,size=64k'));
  hostProcDir();
}

/** SPECIAL_FS are mounts a Gofer never serves from a host tree: the Sentry
 *  has its own /proc, /sys and /dev, and host kernel interfaces stay out. */
const SPECIAL_FS = new Set(['proc', 'sysfs', 'devtmpfs', 'devpts', 'cgroup', 'cgroup2', 'debugfs', 'tracefs',
  'securityfs', 'pstore', 'bpf', 'configfs', 'fusectl', 'mqueue', 'hugetlbfs', 'binfmt_misc', 'efivarfs', 'autofs']);

/** submountsToDrop lists the mount points under root (from mountinfo text)
 *  whose file system type is a kernel interface, deepest first. */
export function submountsToDrop(mountinfo: string, root: string): string[] {
  const out: string[] = [];
  const base = root === '/' ? '' : root;
  for (const line of mountinfo.split('\n')) {
    const f = line.split(' ');
    const sep = f.indexOf('-');
    if (sep < 0) continue;
    const mp = f[4].replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
    if (!(mp === base || mp.startsWith(base + '/')) || mp === root) continue;
    if (SPECIAL_FS.has(f[sep + 1])) out.push(mp);
  }
  return out.sort((a, b) => b.length - a.length);
}

/** enterTree makes the host directory root the process's root (the Gofer):
 *  a recursive bind of it without kernel file systems, read-only when asked.
 *  The bind is built under a scratch tmpfs so that root may be "/" itself. */
export function enterTree(root: string, readonly: boolean, mountinfo: string): void {
  // Held open across the scratch mount, which may hide root (a tree under /tmp).
  const O_PATH = 0o10000000;
  const O_DIRECTORY = 0o200000;
  const rootFd = openSync(root, O_PATH | O_DIRECTORY);
  const scratch = mountScratch();
  const at = `${scratch}/root`;
  mkdirSync(at);
  check('bind root', native.mount(`/proc/self/fd/${rootFd}`, at, '', MS_BIND | MS_REC, ''));
  closeSync(rootFd);
  const inBind = (p: string): string => at + (root === '/' ? p : p.slice(root.length));
  const drop = submountsToDrop(mountinfo, root);
  // The scratch tmpfs itself was copied into the bind when root holds it.
  if (scratch === root || scratch.startsWith(root === '/' ? '/' : root + '/')) drop.unshift(scratch);
  for (const mp of drop) native.umount2(inBind(mp), MNT_DETACH); // best effort: nested ones go with their parent
  const attrs = MOUNT_ATTR_NOSUID | (readonly ? MOUNT_ATTR_RDONLY : 0);
  check('tree attributes', native.mountSetattr(at, AT_RECURSIVE, attrs, 0, 0));
  check('chdir', native.chdir(at));
  pivotHere();
}

/** installFilter installs a seccomp filter on every thread of the process. */
export function installFilter(prog: Uint8Array): void {
  check('seccomp', native.seccompInstall(prog, SECCOMP_FILTER_FLAG_TSYNC));
}

/** prepareSentry runs first in a sandbox process: its mounts stop
 *  propagating and /proc becomes its PID namespace's, so that /proc/<pid>
 *  names the stubs it is about to start. */
export function prepareSentry(): void {
  makeMountsPrivate();
  mountOwnProc();
  reopenHostProcDir();
}

/** confineSentry runs once the sandbox is built (stubs started, host fds
 *  in hand): the empty root, the capability drop, then the filter (unless
 *  --no-seccomp). stateDirFd is a container's state directory. */
export function confineSentry(o: { noSeccomp: boolean; hostNetwork: boolean; stateDirFd?: number }): void {
  enterEmptyRoot();
  // This thread keeps CAP_SYS_PTRACE and CAP_SYS_NICE (in the sandbox's user
  // namespace) alone: PTRACE_POKEDATA into a stub's read-only pages needs the
  // first; binding stub threads to a CPU (src/platform/ptrace) the second,
  // since the stubs' capabilities are not a subset of ours. The filter binds the others.
  const CAP_SYS_PTRACE = 19;
  const CAP_SYS_NICE = 23;
  check('capset', native.capSet((1 << CAP_SYS_PTRACE) | (1 << CAP_SYS_NICE), 0));
  if (!o.noSeccomp) installFilter(sentryFilter({ procFd: hostProcDir(), hostNetwork: o.hostNetwork, stateDirFd: o.stateDirFd }));
}
