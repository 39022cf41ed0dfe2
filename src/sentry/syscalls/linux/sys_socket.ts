// The socket syscalls (Linux's net/socket.c): argument decoding, descriptors
// and struct msghdr; the protocol work is the family's (src/sentry/socket).
// read(2)/write(2) and friends reach sockets through the generic file paths.

import * as linuxerr from '../../../abi/linux/errno.js';
import { SYSNO } from '../../../abi/linux/sysno.js';
import { CAP_SETGID, CAP_SETUID, CAP_SYS_ADMIN } from '../../kernel/setid.js';
import type { Task } from '../../kernel/task.js';
import * as abi from '../../socket/abi.js';
import type { UCred } from '../../socket/abi.js';
import { ControlWriter, parseControl } from '../../socket/control.js';
import type { Msghdr } from '../../socket/guest.js';
import {
  GuestSink, GuestSource, copyInAddr, copyOutAddr, readMsghdr, retryWhileAgain, runRecv, runSend,
} from '../../socket/guest.js';
import type { Socket, SocketFamily } from '../../socket/socket.js';
import { RecvRequest, SendRequest, familyOf, newSocketFile, socketOf } from '../../socket/socket.js';
import '../../socket/unix/unix.js';
import '../../socket/netstack/inet.js';
import '../../socket/netlink/netlink.js';
import { hostFamily } from '../../socket/hostinet/hostinet.js';
import { forEachMessage } from '../../socket/hostinet/control.js';
import type { FileDescription } from '../../vfs/file_description.js';
import { EVENT_IN, EVENT_OUT } from '../../vfs/waiter.js';
import type { SyscallArgs, SyscallEntries } from '../syscalls.js';
import { partial, supported } from '../syscalls.js';
import { nofile } from './sys_pipe.js';
import { MAX_RW_COUNT, checkRange, copyInIovecs } from './sys_read_write.js';

/** CAP_NET_RAW guards packet and raw IP sockets. */
const CAP_NET_RAW = 13;
/** IPPROTO_MAX bounds an inet socket's protocol (263 since Linux 5.6: IPPROTO_MPTCP is 262). */
const IPPROTO_MAX = 263;
/** SOCK_MAX bounds socket(2)'s type argument. */
const SOCK_MAX = 11;
/** UIO_MAXIOV bounds sendmmsg/recvmmsg vectors. */
const UIO_MAXIOV = 1024;
/** net.core.optmem_max: the most control data sendmsg accepts. */
const OPTMEM_MAX = 131072;

// ---- Descriptors ----

/** getSocket returns fd's description and socket: EBADF, or ENOTSOCK for other files. */
function getSocket(t: Task, fd: number): { f: FileDescription; s: Socket } {
  const f = t.fdTable.get(fd);
  const s = socketOf(f);
  if (!s) throw linuxerr.ENOTSOCK;
  return { f, s };
}

/** install gives a new socket a descriptor (flags: SOCK_NONBLOCK, SOCK_CLOEXEC). */
function install(t: Task, s: Socket, flags: number): number {
  const f = newSocketFile(s, (flags & abi.SOCK_NONBLOCK) !== 0);
  try {
    return t.fdTable.newFD(f, (flags & abi.SOCK_CLOEXEC) !== 0, 0, nofile(t));
  } finally {
    // The table holds the reference now, or nobody does and the socket is released.
    f.decRef();
  }
}

function family(t: Task, domain: number, type: number, typeArg: number, protocol: number): SocketFamily {
  if (typeArg & ~(abi.SOCK_TYPE_MASK | abi.SOCK_NONBLOCK | abi.SOCK_CLOEXEC)) throw linuxerr.EINVAL;
  if (domain < 0 || domain >= abi.AF_MAX) throw linuxerr.EAFNOSUPPORT;
  if (type >= SOCK_MAX) throw linuxerr.EINVAL;
  // Raw access to the wire needs CAP_NET_RAW. packet_create checks it first;
  // inet_create after the protocol (0 matches no raw protocol).
  if (domain === abi.AF_PACKET && !t.creds.hasCap(CAP_NET_RAW)) throw linuxerr.EPERM;
  if ((domain === abi.AF_INET || domain === abi.AF_INET6) && type === abi.SOCK_RAW) {
    if (protocol < 0 || protocol >= IPPROTO_MAX) throw linuxerr.EINVAL;
    if (protocol === 0) throw linuxerr.EPROTONOSUPPORT;
    if (!t.creds.hasCap(CAP_NET_RAW)) throw linuxerr.EPERM;
  }
  // --network=host: inet sockets are the host's (src/sentry/socket/hostinet).
  const fam = hostFamily(t.kernel, domain) ?? familyOf(domain);
  if (!fam) {
    t.kernel.log.warnOnce(`socket:af${domain}`, `socket family ${domain} is not supported (EAFNOSUPPORT)`);
    throw linuxerr.EAFNOSUPPORT;
  }
  return fam;
}

/** socket implements Linux syscall socket(2). */
export function socket(t: Task, a: SyscallArgs): number {
  const domain = a.int(0);
  const typeArg = a.int(1);
  const protocol = a.int(2);
  const type = typeArg & abi.SOCK_TYPE_MASK;
  const fam = family(t, domain, type, typeArg, protocol);
  return install(t, fam.create(t, type, protocol), typeArg);
}

/** socketpair implements Linux syscall socketpair(2). */
export function socketpair(t: Task, a: SyscallArgs): number {
  const domain = a.int(0);
  const typeArg = a.int(1);
  const protocol = a.int(2);
  const svAddr = a.ptr(3);
  const type = typeArg & abi.SOCK_TYPE_MASK;
  const fam = family(t, domain, type, typeArg, protocol);
  if (!fam.pair) throw linuxerr.EOPNOTSUPP;
  const [x, y] = fam.pair(t, type, protocol);
  let fx: number;
  try {
    fx = install(t, x, typeArg);
  } catch (e) {
    y.release();
    throw e;
  }
  let fy: number;
  try {
    fy = install(t, y, typeArg);
  } catch (e) {
    t.fdTable.remove(fx);
    throw e;
  }
  const out = new Uint8Array(8);
  const dv = new DataView(out.buffer);
  dv.setInt32(0, fx, true);
  dv.setInt32(4, fy, true);
  try {
    t.mm.copyOut(svAddr, out);
  } catch (e) {
    t.fdTable.remove(fx);
    t.fdTable.remove(fy);
    throw e;
  }
  return 0;
}

// ---- Names and connections ----

/** bind implements Linux syscall bind(2). */
export function bind(t: Task, a: SyscallArgs): number {
  const fd = a.int(0);
  const addr = a.ptr(1);
  const len = a.int(2);
  const { s } = getSocket(t, fd);
  s.bind(t, copyInAddr(t, addr, len));
  return 0;
}

/** listen implements Linux syscall listen(2). */
export function listen(t: Task, a: SyscallArgs): number {
  const fd = a.int(0);
  let backlog = a.int(1);
  const { s } = getSocket(t, fd);
  // The backlog is unsigned here: negative asks for the most there is.
  if (backlog < 0 || backlog > abi.SOMAXCONN) backlog = abi.SOMAXCONN;
  s.listen(t, backlog);
  return 0;
}

function doAccept(t: Task, fd: number, addr: number, lenAddr: number, flags: number): number | Promise<number> {
  if (flags & ~(abi.SOCK_CLOEXEC | abi.SOCK_NONBLOCK)) throw linuxerr.EINVAL;
  const { f, s } = getSocket(t, fd);
  const finish = (ns: Socket): number => {
    const nfd = install(t, ns, flags);
    if (addr) {
      try {
        copyOutAddr(t, addr, lenAddr, ns.name(t, true));
      } catch (e) {
        // The connection is lost with its descriptor, as in Linux.
        t.fdTable.remove(nfd);
        throw e;
      }
    }
    return nfd;
  };
  const r = retryWhileAgain(t, f, s, EVENT_IN, f.nonblocking, s.opts.rcvtimeo, () => s.accept(t));
  return r instanceof Promise ? r.then(finish) : finish(r);
}

/** accept implements Linux syscall accept(2). */
export function accept(t: Task, a: SyscallArgs): number | Promise<number> {
  return doAccept(t, a.int(0), a.ptr(1), a.ptr(2), 0);
}

/** accept4 implements Linux syscall accept4(2). */
export function accept4(t: Task, a: SyscallArgs): number | Promise<number> {
  return doAccept(t, a.int(0), a.ptr(1), a.ptr(2), a.int(3));
}

/** connect implements Linux syscall connect(2). */
export function connect(t: Task, a: SyscallArgs): number | Promise<number> {
  const fd = a.int(0);
  const addr = a.ptr(1);
  const len = a.int(2);
  const { f, s } = getSocket(t, fd);
  const raw = copyInAddr(t, addr, len);
  const nb = f.nonblocking;
  const r = retryWhileAgain(t, f, s, EVENT_OUT, nb, s.opts.sndtimeo, () => s.connect(t, raw, nb));
  return r instanceof Promise ? r.then(() => 0) : 0;
}

function getName(t: Task, a: SyscallArgs, peer: boolean): number {
  const fd = a.int(0);
  const addr = a.ptr(1);
  const lenAddr = a.ptr(2);
  const { s } = getSocket(t, fd);
  copyOutAddr(t, addr, lenAddr, s.name(t, peer));
  return 0;
}

/** getsockname implements Linux syscall getsockname(2). */
export function getsockname(t: Task, a: SyscallArgs): number {
  return getName(t, a, false);
}

/** getpeername implements Linux syscall getpeername(2). */
export function getpeername(t: Task, a: SyscallArgs): number {
  return getName(t, a, true);
}

/** shutdown implements Linux syscall shutdown(2). */
export function shutdown(t: Task, a: SyscallArgs): number {
  const fd = a.int(0);
  const how = a.int(1);
  getSocket(t, fd).s.shutdown(t, how);
  return 0;
}

// ---- Options ----

/** setsockopt implements Linux syscall setsockopt(2). */
export function setsockopt(t: Task, a: SyscallArgs): number {
  const fd = a.int(0);
  const level = a.int(1);
  const name = a.int(2);
  const val = a.ptr(3);
  const len = a.int(4);
  const { s } = getSocket(t, fd);
  if (len < 0) throw linuxerr.EINVAL;
  // Options read at most a few words; a longer optlen is not an error.
  const n = Math.min(len, 256);
  s.setsockopt(t, level, name, n ? t.mm.copyIn(val, n) : new Uint8Array(0));
  return 0;
}

/** getsockopt implements Linux syscall getsockopt(2). */
export function getsockopt(t: Task, a: SyscallArgs): number {
  const fd = a.int(0);
  const level = a.int(1);
  const name = a.int(2);
  const val = a.ptr(3);
  const lenAddr = a.ptr(4);
  const { s } = getSocket(t, fd);
  const len = t.mm.readI32(lenAddr);
  if (len < 0) throw linuxerr.EINVAL;
  const v = s.getsockopt(t, level, name);
  const n = Math.min(len, v.length);
  if (n > 0) t.mm.copyOut(val, v.subarray(0, n));
  t.mm.writeI32(lenAddr, n);
  return 0;
}

// ---- Sending ----

/** checkCreds is scm_check_creds: one may only claim ids one has, unless privileged. */
function checkCreds(t: Task, c: UCred): void {
  const cr = t.creds;
  const pidOk = c.pid === t.tg.pid || cr.hasCap(CAP_SYS_ADMIN);
  const uidOk = c.uid === cr.uid || c.uid === cr.euid || c.uid === cr.suid || cr.hasCap(CAP_SETUID);
  const gidOk = c.gid === cr.gid || c.gid === cr.egid || c.gid === cr.sgid || cr.hasCap(CAP_SETGID);
  if (!pidOk || !uidOk || !gidOk) throw linuxerr.EPERM;
  if (c.pid !== t.tg.pid && !t.kernel.tasks.has(c.pid) && !t.kernel.threadGroups.has(c.pid)) throw linuxerr.ESRCH;
  if (c.uid === 0xffff_ffff || c.gid === 0xffff_ffff) throw linuxerr.EINVAL;
}

/** attachControl decodes sendmsg control data into req: descriptors (each
 *  referenced for the request) and checked credentials. */
function attachControl(t: Task, s: Socket, req: SendRequest, control: number, len: number): void {
  if (len === 0) return;
  if (len > OPTMEM_MAX) throw linuxerr.ENOBUFS;
  const raw = t.mm.copyIn(control, len);
  const c = parseControl(raw);
  req.control = raw;
  if (c.fds) {
    if (!s.passesRights) throw linuxerr.EINVAL;
    const files = c.fds.map((fd) => t.fdTable.get(fd));
    for (const f of files) f.incRef();
    req.rights = files;
  }
  if (c.creds) {
    checkCreds(t, c.creds);
    req.creds = c.creds;
  }
}

function nonblocking(f: FileDescription, flags: number): boolean {
  return f.nonblocking || (flags & abi.MSG_DONTWAIT) !== 0;
}

/** sendMsghdr sends one struct msghdr. */
function sendMsghdr(t: Task, f: FileDescription, s: Socket, h: Msghdr, flags: number): number | Promise<number> {
  const to = h.namelen ? copyInAddr(t, h.name, h.namelen) : null;
  const { iovs, total } = copyInIovecs(t, h.iov, h.iovlen);
  const req = new SendRequest(new GuestSource(t, iovs, total), to, flags, nonblocking(f, flags));
  try {
    attachControl(t, s, req, h.control, h.controllen);
  } catch (e) {
    req.release();
    throw e;
  }
  return runSend(t, f, s, req);
}

/** sendto implements Linux syscall sendto(2). */
export function sendto(t: Task, a: SyscallArgs): number | Promise<number> {
  const fd = a.int(0);
  const buf = a.ptr(1);
  let len = a.sizeT(2);
  const flags = a.uint(3);
  const addr = a.ptr(4);
  const addrlen = a.int(5);
  checkRange(buf, len);
  len = Math.min(len, MAX_RW_COUNT);
  const { f, s } = getSocket(t, fd);
  const to = addr ? copyInAddr(t, addr, addrlen) : null;
  const req = new SendRequest(new GuestSource(t, [{ base: buf, len }], len), to, flags, nonblocking(f, flags));
  return runSend(t, f, s, req);
}

/** sendmsg implements Linux syscall sendmsg(2). */
export function sendmsg(t: Task, a: SyscallArgs): number | Promise<number> {
  const fd = a.int(0);
  const msg = a.ptr(1);
  const flags = a.uint(2);
  const { f, s } = getSocket(t, fd);
  return sendMsghdr(t, f, s, readMsghdr(t, msg), flags);
}

/** mmsgLoop runs step for entries 0..n-1 in order, each possibly waiting; after is
 *  called with each result and may end the loop early (returning false). An error
 *  ends the loop and is reported only if no entry succeeded, as Linux does. */
function mmsgLoop(n: number, step: (i: number) => number | Promise<number>,
  after: (i: number, r: number) => boolean): number | Promise<number> {
  for (let i = 0; i < n; i++) {
    let r: number | Promise<number>;
    try {
      r = step(i);
    } catch (e) {
      if (i > 0) return i;
      throw e;
    }
    if (r instanceof Promise) return mmsgSlow(n, i, r, step, after);
    if (!after(i, r)) return i + 1;
  }
  return n;
}

async function mmsgSlow(n: number, i: number, first: Promise<number>, step: (i: number) => number | Promise<number>,
  after: (i: number, r: number) => boolean): Promise<number> {
  let p: number | Promise<number> = first;
  for (;;) {
    let r: number;
    try {
      r = await p;
    } catch (e) {
      if (i > 0) return i;
      throw e;
    }
    if (!after(i, r) || ++i >= n) return i;
    try {
      p = step(i);
    } catch {
      return i;
    }
  }
}

/** sendmmsg implements Linux syscall sendmmsg(2). */
export function sendmmsg(t: Task, a: SyscallArgs): number | Promise<number> {
  const fd = a.int(0);
  const vec = a.ptr(1);
  const vlen = Math.min(a.uint(2), UIO_MAXIOV);
  const flags = a.uint(3);
  const { f, s } = getSocket(t, fd);
  return mmsgLoop(vlen, (i) => sendMsghdr(t, f, s, readMsghdr(t, vec + abi.MMSGHDR_LEN * i), flags),
    (i, r) => {
      t.mm.writeI32(vec + abi.MMSGHDR_LEN * i + abi.MSGHDR_LEN, r);
      return true;
    });
}

// ---- Receiving ----

/** recvTarget is how much a stream read waits for (sock_rcvlowat). */
function recvTarget(s: Socket, flags: number, len: number): number {
  const v = flags & abi.MSG_WAITALL ? len : Math.min(s.opts.rcvlowat, len);
  return v || 1;
}

/** recvfrom implements Linux syscall recvfrom(2). */
export function recvfrom(t: Task, a: SyscallArgs): number | Promise<number> {
  const fd = a.int(0);
  const buf = a.ptr(1);
  let len = a.sizeT(2);
  const flags = a.uint(3);
  const addr = a.ptr(4);
  const lenAddr = a.ptr(5);
  checkRange(buf, len);
  len = Math.min(len, MAX_RW_COUNT);
  const { f, s } = getSocket(t, fd);
  const req = new RecvRequest(new GuestSink(t, [{ base: buf, len }], len), flags, nonblocking(f, flags),
    recvTarget(s, flags, len));
  const finish = (r: RecvRequest): number => {
    // recvfrom has no room for descriptors: they are closed.
    r.release();
    if (addr) copyOutAddr(t, addr, lenAddr, r.from ?? new Uint8Array(0));
    return r.value;
  };
  const r = runRecv(t, f, s, req);
  return r instanceof Promise ? r.then(finish) : finish(r);
}

/** deliverControl installs received descriptors and writes recvmsg's control data,
 *  returning the MSG_CTRUNC flag if something did not fit. */
function deliverControl(t: Task, h: Msghdr, req: RecvRequest, flags: number): { used: number; ctrunc: number } {
  const cap = h.control ? h.controllen : 0;
  const w = new ControlWriter(cap);
  if (req.creds) w.putCreds(req.creds);
  const rights = req.rights;
  req.rights = null;
  if (rights) {
    const room = Math.min(w.rightsRoom(), rights.length);
    const fds: number[] = [];
    const cloexec = (flags & abi.MSG_CMSG_CLOEXEC) !== 0;
    try {
      for (let i = 0; i < room; i++) fds.push(t.fdTable.newFD(rights[i], cloexec, 0, nofile(t)));
    } catch (e) {
      if (e !== linuxerr.EMFILE) throw e;
    } finally {
      // Installed ones hold their own reference; the rest are closed.
      for (const f of rights) f.decRef();
    }
    w.putRights(fds, rights.length);
  }
  if (req.hostControl) forEachMessage(req.hostControl, (level, type, data) => w.putMessage(level, type, data));
  if (w.used > 0) t.mm.copyOut(h.control, w.bytes());
  return { used: w.used, ctrunc: w.truncated ? abi.MSG_CTRUNC : 0 };
}

/** finishRecvmsg writes back a struct msghdr after a receive: name, control, flags. */
function finishRecvmsg(t: Task, msg: number, h: Msghdr, req: RecvRequest, flags: number): number {
  try {
    const { used, ctrunc } = deliverControl(t, h, req, flags);
    if (h.name) copyOutAddr(t, h.name, msg + 8, req.from ?? new Uint8Array(0));
    t.mm.writeI32(msg + 48, (flags & abi.MSG_CMSG_CLOEXEC) | req.msgFlags | ctrunc);
    t.mm.writeU64(msg + 40, used);
    return req.value;
  } finally {
    req.release();
  }
}

function recvMsghdr(t: Task, f: FileDescription, s: Socket, msg: number, flags: number): number | Promise<number> {
  const h = readMsghdr(t, msg);
  const { iovs, total } = copyInIovecs(t, h.iov, h.iovlen);
  const req = new RecvRequest(new GuestSink(t, iovs, total), flags, nonblocking(f, flags), recvTarget(s, flags, total));
  const r = runRecv(t, f, s, req);
  return r instanceof Promise ? r.then((q) => finishRecvmsg(t, msg, h, q, flags)) : finishRecvmsg(t, msg, h, r, flags);
}

/** recvmsg implements Linux syscall recvmsg(2). */
export function recvmsg(t: Task, a: SyscallArgs): number | Promise<number> {
  const fd = a.int(0);
  const msg = a.ptr(1);
  const flags = a.uint(2);
  const { f, s } = getSocket(t, fd);
  return recvMsghdr(t, f, s, msg, flags);
}

function readTimespec(t: Task, addr: number): number {
  const dv = new DataView(t.mm.copyIn(addr, 16).buffer);
  const sec = Number(dv.getBigInt64(0, true));
  const nsec = Number(dv.getBigInt64(8, true));
  if (sec < 0 || nsec < 0 || nsec >= 1e9) throw linuxerr.EINVAL;
  return sec * 1000 + nsec / 1e6;
}

function writeTimespec(t: Task, addr: number, ms: number): void {
  const b = new Uint8Array(16);
  const dv = new DataView(b.buffer);
  const sec = Math.floor(ms / 1000);
  dv.setBigInt64(0, BigInt(sec), true);
  dv.setBigInt64(8, BigInt(Math.floor((ms - sec * 1000) * 1e6)), true);
  t.mm.copyOut(addr, b);
}

/** recvmmsg implements Linux syscall recvmmsg(2). As in Linux, the timeout is
 *  only checked between datagrams: a blocking receive may outlast it. */
export function recvmmsg(t: Task, a: SyscallArgs): number | Promise<number> {
  const fd = a.int(0);
  const vec = a.ptr(1);
  const vlen = Math.min(a.uint(2), UIO_MAXIOV);
  let flags = a.uint(3);
  const tsAddr = a.ptr(4);
  const { f, s } = getSocket(t, fd);
  const end = tsAddr ? performance.now() + readTimespec(t, tsAddr) : Infinity;
  const r = mmsgLoop(vlen, (i) => recvMsghdr(t, f, s, vec + abi.MMSGHDR_LEN * i, flags), (i, n) => {
    t.mm.writeI32(vec + abi.MMSGHDR_LEN * i + abi.MSGHDR_LEN, n);
    if (flags & abi.MSG_WAITFORONE) flags |= abi.MSG_DONTWAIT;
    return performance.now() < end;
  });
  if (!tsAddr) return r;
  const writeBack = (n: number): number => {
    writeTimespec(t, tsAddr, Math.max(0, end - performance.now()));
    return n;
  };
  return r instanceof Promise ? r.then(writeBack) : writeBack(r);
}

export const syscalls: SyscallEntries = {
  [SYSNO.socket]: partial('socket', socket, 'AF_UNIX, AF_INET, AF_INET6 (TCP, UDP, ping, raw IP), AF_NETLINK; others (AF_PACKET) are EAFNOSUPPORT'),
  [SYSNO.socketpair]: supported('socketpair', socketpair),
  [SYSNO.bind]: supported('bind', bind),
  [SYSNO.listen]: supported('listen', listen),
  [SYSNO.accept]: supported('accept', accept),
  [SYSNO.accept4]: supported('accept4', accept4),
  [SYSNO.connect]: supported('connect', connect),
  [SYSNO.getsockname]: supported('getsockname', getsockname),
  [SYSNO.getpeername]: supported('getpeername', getpeername),
  [SYSNO.shutdown]: supported('shutdown', shutdown),
  [SYSNO.setsockopt]: partial('setsockopt', setsockopt, 'common SOL_SOCKET options; SO_PEEK_OFF, SO_TIMESTAMP* unsupported'),
  [SYSNO.getsockopt]: partial('getsockopt', getsockopt, 'common SOL_SOCKET options'),
  [SYSNO.sendto]: supported('sendto', sendto),
  [SYSNO.sendmsg]: partial('sendmsg', sendmsg, 'SCM_RIGHTS and SCM_CREDENTIALS; MSG_OOB unsupported'),
  [SYSNO.sendmmsg]: supported('sendmmsg', sendmmsg),
  [SYSNO.recvfrom]: supported('recvfrom', recvfrom),
  [SYSNO.recvmsg]: partial('recvmsg', recvmsg, 'SCM_RIGHTS and SCM_CREDENTIALS; MSG_OOB unsupported'),
  [SYSNO.recvmmsg]: supported('recvmmsg', recvmmsg),
};
