// ioctls of host-backed sockets: the queue and interface queries are the
// host's (--network=host shows the host's interfaces), answered by the host
// socket itself. Requests that change interfaces are not passed on.

import * as linuxerr from '../../../abi/linux/errno.js';
import { native } from '../../../platform/ptrace/native.js';
import type { Task } from '../../kernel/task.js';

const SIOCATMARK = 0x8905;
const SIOCOUTQNSD = 0x894b;
const SIOCGIFCONF = 0x8912;
/** The struct ifreq queries: SIOCGIFNAME, FLAGS, ADDR, DSTADDR, BRDADDR, NETMASK,
 *  METRIC, MTU, HWADDR, INDEX, TXQLEN. */
const IFREQ_GETS = new Set([0x8910, 0x8913, 0x8915, 0x8917, 0x8919, 0x891b, 0x891d, 0x8921, 0x8927, 0x8933, 0x8942]);
const IFREQ_LEN = 40;
const IFCONF_LEN = 16;
/** The most interface records SIOCGIFCONF reports. */
const MAX_IFCONF = 64 * IFREQ_LEN;

function check(r: number): number {
  if (r < 0) throw linuxerr.fromErrno(-r);
  return r;
}

/** hostIoctl answers cmd from the host socket fd, or returns null when it is not
 *  a host query (the generic socket ioctls then apply). */
export function hostIoctl(t: Task, fd: number, cmd: number, arg: number): number | null {
  if (cmd === SIOCATMARK || cmd === SIOCOUTQNSD) {
    const b = new Uint8Array(4);
    check(native.ioctl(fd, cmd, b, 0));
    t.mm.copyOut(arg, b);
    return 0;
  }
  if (IFREQ_GETS.has(cmd)) {
    const req = t.mm.copyIn(arg, IFREQ_LEN).slice();
    check(native.ioctl(fd, cmd, req, 0));
    t.mm.copyOut(arg, req);
    return 0;
  }
  if (cmd === SIOCGIFCONF) {
    const dv = new DataView(t.mm.copyIn(arg, IFCONF_LEN).slice().buffer);
    const len = dv.getInt32(0, true);
    const buf = dv.getUint32(8, true) + dv.getUint32(12, true) * 0x1_0000_0000;
    // The host fills a buffer of the Sentry's; the guest gets the records that fit.
    const out = new Uint8Array(buf === 0 ? MAX_IFCONF : Math.max(0, Math.min(len, MAX_IFCONF)));
    const n = check(native.netIfconf(fd, out));
    if (buf !== 0 && n > 0) t.mm.copyOut(buf, out.subarray(0, n));
    t.mm.writeI32(arg, n);
    return 0;
  }
  return null;
}
