// native.ts is the only importer of the N-API addon. It types the addon's whole
// surface. Every function returns >= 0 on success or -errno; see native/src.

import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as path from 'node:path';

export interface Native {
  /** spawnStub starts the traced stub with sockFd as its fd 3, in new namespaces unshareFlags (CLONE_NEW*; 0: the caller's). */
  spawnStub(path: string, sockFd: number, unshareFlags: number): number;
  /** setAffinity lets host thread tid run on cpu only, or on the Sentry's own CPUs (cpu < 0). */
  setAffinity(tid: number, cpu: number): number;
  /** getCpu returns the CPU the calling thread is on. */
  getCpu(): number;
  ptrace(req: number, tid: number, addr: number, data: number): number;
  getRegs(tid: number, out: BigUint64Array): number;
  setRegs(tid: number, regs: BigUint64Array): number;
  getRegset(tid: number, nt: number, buf: Uint8Array): number;
  setRegset(tid: number, nt: number, buf: Uint8Array): number;
  getEventMsg(tid: number): number;
  getSiginfo(tid: number, out: Uint8Array): number;
  initWaitTimeout(signo: number): number;
  wait(target: number, timeoutUs: number, regs: BigUint64Array | null, info: Int32Array): number;
  resumeAndWait(
    tid: number, request: number, sig: number, setMode: number, regsIn: BigUint64Array,
    target: number, timeoutUs: number, regsOut: BigUint64Array, info: Int32Array,
  ): number;
  inject(tid: number, gadget: number, nr: number, args: Float64Array, info: Int32Array): number;
  tgkill(tgid: number, tid: number, sig: number): number;
  /** pokeData writes buf[off, off+len) at addr of stopped pid through PTRACE_POKEDATA (ignores page protections). */
  pokeData(pid: number, addr: number, buf: Uint8Array, off: number, len: number): number;
  vmRead(pid: number, addr: number, buf: Uint8Array, off: number, len: number): number;
  vmWrite(pid: number, addr: number, buf: Uint8Array, off: number, len: number): number;
  /** preadToVm reads up to len bytes of host fd at pos into pid's memory at addr through scratch (>= len bytes); bytes | -errno. */
  preadToVm(fd: number, pos: number, len: number, pid: number, addr: number, scratch: Uint8Array): number;
  /** mapFile maps len bytes of host fd read-only (MAP_SHARED) into the Sentry; address | -errno. */
  mapFile(fd: number, len: number): number;
  unmapFile(addr: number, len: number): number;
  /** vmWriteFrom copies len bytes at the Sentry's address local (in a mapFile mapping) to pid's addr; bytes | -errno. */
  vmWriteFrom(pid: number, addr: number, local: number, len: number): number;
  /** memMap maps len bytes of fd read-write, shared, MAP_NORESERVE (the guest memory file); address | -errno. */
  memMap(fd: number, len: number): number;
  /** memRead/memWrite copy between the Sentry address addr and buf[off, off+len); len | -EFAULT (SIGBUS-guarded). */
  memRead(addr: number, buf: Uint8Array, off: number, len: number): number;
  memWrite(addr: number, buf: Uint8Array, off: number, len: number): number;
  /** memCopy copies len bytes between two Sentry addresses; len | -EFAULT (SIGBUS-guarded). */
  memCopy(dst: number, src: number, len: number): number;
  /** preadAt/pwriteAt are pread/pwrite with a Sentry address as the buffer; bytes | -errno. */
  preadAt(fd: number, addr: number, len: number, pos: number): number;
  pwriteAt(fd: number, addr: number, len: number, pos: number): number;
  /** vmReadTo copies len bytes of pid's memory at addr to the Sentry's address local; bytes | -errno. */
  vmReadTo(pid: number, addr: number, local: number, len: number): number;
  /** punchHole deallocates [off, off+len) of fd (FALLOC_FL_PUNCH_HOLE | KEEP_SIZE). */
  punchHole(fd: number, off: number, len: number): number;
  socketpair(domain: number, type: number, out: Int32Array): number;
  sendFds(sock: number, fds: Int32Array, data: Uint8Array): number;
  recvFds(sock: number, data: Uint8Array, fdsOut: Int32Array, flags: number): number;
  memfdCreate(name: string, flags: number): number;
  ioctl(fd: number, req: number, buf: Uint8Array | null, arg: number): number;
  setNofile(n: number): number;
  /** spawn runs path with fds[i] as the child's fd i (-1: closed), no other fd; flags 1 = setsid. */
  spawn(path: string, argv: string[], envp: string[], fds: Int32Array, flags: number): number;
  /** waitpid reaps pid (> 0 only); returns pid, 0 (WNOHANG, running) or -errno; out[0] = status. */
  waitpid(pid: number, flags: number, out: Int32Array): number;
  /** chroot changes the process's root to path and its cwd to the new root. */
  chroot(path: string): number;
  /** openpty creates a pseudo-terminal pair (close-on-exec, no controlling tty); out = [master, slave]. */
  openpty(out: Int32Array): number;
  /** unixListen returns a non-blocking listening AF_UNIX stream socket bound at path. */
  unixListen(path: string, backlog: number): number;
  /** unixAccept accepts one connection (non-blocking socket), or -EAGAIN when none waits. */
  unixAccept(fd: number): number;
  /** unixConnect returns a blocking AF_UNIX stream socket connected to path. */
  unixConnect(path: string): number;
  /** exitNow ends the process with code at once (exit_group), without Node's teardown. */
  exitNow(code: number): never;
  /** flock applies flock(2) operation op (LOCK_SH 1, LOCK_EX 2, LOCK_NB 4, LOCK_UN 8). */
  flock(fd: number, op: number): number;
  /** spawnNs is spawn through clone(cloneFlags): the child waits before exec until out[0] (returned) is closed.
   *  flags: 1 setsid, 2 PR_SET_PDEATHSIG(SIGKILL), 4 become uid/gid 0 in the new user namespace. */
  spawnNs(path: string, argv: string[], envp: string[], fds: Int32Array, flags: number, cloneFlags: number, out: Int32Array): number;
  mount(source: string, target: string, fstype: string, flags: number, data: string): number;
  umount2(target: string, flags: number): number;
  pivotRoot(newRoot: string, putOld: string): number;
  chdir(path: string): number;
  /** mountSetattr is mount_setattr(AT_FDCWD, path, atFlags, {attrSet, attrClr, propagation}). */
  mountSetattr(path: string, atFlags: number, attrSet: number, attrClr: number, propagation: number): number;
  /** prlimit sets pid's limit (-1 = RLIM_INFINITY). */
  prlimit(pid: number, resource: number, soft: number, hard: number): number;
  /** seccompInstall sets no_new_privs and installs a filter (struct sock_filter[] bytes). */
  seccompInstall(prog: Uint8Array, flags: number): number;
  /** capSet sets the calling thread's effective and permitted capabilities to the mask (bits 0-31, 32-63). */
  capSet(low: number, high: number): number;
  /** openat is openat(2) (Node has no dirfd-relative open). */
  openat(dirfd: number, path: string, flags: number, mode: number): number;
  renameat(olddirfd: number, oldPath: string, newdirfd: number, newPath: string): number;
  // Host sockets for --network=host (native/src/net.c, src/sentry/socket/hostinet).
  /** netSocket makes a non-blocking, close-on-exec host socket. */
  netSocket(domain: number, type: number, protocol: number): number;
  netBind(fd: number, addr: Uint8Array): number;
  netConnect(fd: number, addr: Uint8Array): number;
  netListen(fd: number, backlog: number): number;
  /** netAccept accepts a non-blocking socket; the peer's address goes to addrOut, its length to lenOut[0]. */
  netAccept(fd: number, addrOut: Uint8Array, lenOut: Int32Array): number;
  netSendmsg(fd: number, data: Uint8Array, addr: Uint8Array | null, control: Uint8Array | null, flags: number): number;
  /** netRecvmsg: info = [address length, control length, msg_flags]. */
  netRecvmsg(fd: number, data: Uint8Array, addrOut: Uint8Array | null, controlOut: Uint8Array | null, flags: number, info: Int32Array): number;
  /** netGetsockopt returns the option's length (its bytes in buf). */
  netGetsockopt(fd: number, level: number, name: number, buf: Uint8Array): number;
  netSetsockopt(fd: number, level: number, name: number, buf: Uint8Array): number;
  /** netName returns the length of the socket's (peer: its peer's) address, stored in out. */
  netName(fd: number, peer: number, out: Uint8Array): number;
  netShutdown(fd: number, how: number): number;
  /** netPoll returns fd's revents for events without waiting. */
  netPoll(fd: number, events: number): number;
  /** netIfconf is SIOCGIFCONF into out; returns the bytes of struct ifreq written. */
  netIfconf(fd: number, out: Uint8Array): number;
  /** netNotifier makes an epoll set watched from Node's loop: onReady runs when it has events. */
  netNotifier(onReady: () => void): number;
  /** netNotifierCtl is epoll_ctl(epfd, op, fd, events | EPOLLET). */
  netNotifierCtl(epfd: number, op: number, fd: number, events: number): number;
  /** netNotifierWait drains events without waiting: (fd, events) pairs in out; returns the count. */
  netNotifierWait(epfd: number, out: Int32Array): number;
  /** netNotifierWaker starts a thread that sends signo to the calling thread when the
   *  set's events stay undrained (the main thread is in a bounded ptrace wait). */
  netNotifierWaker(epfd: number, signo: number): number;
  /** netSocketIn makes a close-on-exec socket in the network namespace netnsFd names
   *  (the calling thread enters it for socket(2) only); fd | -errno. */
  netSocketIn(netnsFd: number, domain: number, type: number, protocol: number): number;
}

const here = path.dirname(fileURLToPath(import.meta.url));

/** findRoot walks up from dir to the directory holding tsvisor's package.json
 *  (the code may run from dist/**, or from a bundle in dist/). */
function findRoot(dir: string): string {
  for (let d = dir; ; d = path.dirname(d)) {
    if (existsSync(path.join(d, 'package.json')) && existsSync(path.join(d, 'native'))) return d;
    if (path.dirname(d) === d) return path.resolve(here, '../../..');
  }
}

/** ROOT is the repository root. */
export const ROOT = findRoot(here);

/** distEntry returns the bundled entry dist/<bundle> when the build made one
 *  (tools/bundle.mjs), else the compiled module dist/<module>. */
export function distEntry(bundle: string, module: string): string {
  const b = path.join(ROOT, 'dist', bundle);
  return existsSync(b) ? b : path.join(ROOT, 'dist', module);
}

function load(): Native {
  const candidates = [
    path.join(ROOT, 'native/build/Release/tsvisor_native.node'),
    path.join(ROOT, 'native/build/Debug/tsvisor_native.node'),
  ];
  const found = candidates.find((p) => existsSync(p));
  if (!found) {
    throw new Error(`tsvisor native addon not built; looked in: ${candidates.join(', ')} (run npm install)`);
  }
  return createRequire(import.meta.url)(found) as Native;
}

/** native is the loaded addon. */
export const native: Native = load();

/** STUB_PATH is the static stub binary every guest address space starts from. */
export const STUB_PATH = path.join(ROOT, 'native/stub/stub');

/** HostError is a failure of one of the Sentry's own host calls, not a guest errno. */
export class HostError extends Error {
  readonly errno: number;
  constructor(call: string, errno: number) {
    super(`${call} failed: errno ${errno}`);
    this.errno = errno;
  }
}

/** check returns r, or throws HostError when r is -errno. */
export function check(call: string, r: number): number {
  if (r < 0) throw new HostError(call, -r);
  return r;
}
