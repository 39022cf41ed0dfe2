// `runsc gofer`: the file server of one container mount (gVisor's internal
// `runsc gofer` command). Started by runsc with its end of a SOCK_SEQPACKET
// socketpair; it confines itself to its root, then answers the Sentry's
// requests until the Sentry closes the socket (or dies).
//
// Confinement (--ns, as runsc starts it): the Gofer runs in namespaces of its
// own (src/runsc/boot/launch.ts); it makes a bind of its tree its root with
// pivot_root, then installs its seccomp filter (filter.ts). Without --ns (a
// Gofer started by hand) it falls back to chroot. Every module is loaded by
// the static imports below before that: nothing is loaded after.

import { closeSync, fstatSync, readFileSync } from 'node:fs';
import { enterTree, installFilter, makeMountsPrivate } from '../runsc/boot/confine.js';
import { goferFilter } from './filter.js';
import { ERRNO } from '../abi/linux/errno.js';
import { native } from '../platform/ptrace/native.js';
import { parseFlags, usage } from '../runsc/config/flags.js';
import type { FlagSpec } from '../runsc/config/flags.js';
import { MAX_FRAME } from './protocol.js';
import { FIONBIO, GoferServer } from './server.js';

export const GOFER_FLAGS: FlagSpec[] = [
  { name: 'root', kind: 'string', help: 'host directory to serve (the process chroots into it)', default: '' },
  { name: 'fd', kind: 'int', help: 'the connected SOCK_SEQPACKET socket to serve', default: 3 },
  { name: 'ro', kind: 'bool', help: 'refuse every change (EROFS)', default: false },
  { name: 'dev', kind: 'bool', help: 'allow opening device nodes', default: false },
  { name: 'ns', kind: 'bool', help: 'confine with pivot_root in the own mount namespace runsc made (else chroot)', default: false },
  { name: 'no-seccomp', kind: 'bool', help: 'skip the seccomp filter (diagnosis only)', default: false },
];

/** confine makes root the process's root; returns an error message or null. */
function confine(root: string, ns: boolean, readonly: boolean): string | null {
  if (!ns) {
    const r = native.chroot(root);
    return r < 0 ? `chroot(${root}) failed: errno ${-r} (needs CAP_SYS_CHROOT)` : null;
  }
  try {
    const mountinfo = readFileSync('/proc/self/mountinfo', 'utf8');
    makeMountsPrivate();
    enterTree(root, readonly, mountinfo);
    return null;
  } catch (e) {
    return `confining to ${root}: ${(e as Error).message}`;
  }
}

const zero = new Int32Array(1);

/** clearNonblock clears O_NONBLOCK on fd (FIONBIO works on every kind of file). */
function clearNonblock(fd: number): void {
  const r = native.ioctl(fd, FIONBIO, new Uint8Array(zero.buffer), 0);
  if (r < 0) throw Object.assign(new Error('FIONBIO'), { errno: r });
}

/** serve answers requests on sock until EOF or a broken connection. */
export function serve(sock: number, server: GoferServer): void {
  const buf = new Uint8Array(MAX_FRAME);
  const got = new Int32Array(4);
  const none = new Int32Array(0);
  const one = new Int32Array(1);
  for (;;) {
    const n = native.recvFds(sock, buf, got, 0);
    if (n === -ERRNO.EINTR) continue;
    // The Sentry never sends fds: drop any.
    for (const fd of got) if (fd >= 0) closeSync(fd);
    if (n <= 0) return;
    let frames;
    try {
      frames = server.handle(buf.subarray(0, n));
    } catch {
      return; // a frame without an id: the peer is broken
    }
    for (const f of frames) {
      if (f.fd >= 0) one[0] = f.fd;
      let r;
      do r = native.sendFds(sock, f.fd >= 0 ? one : none, f.data);
      while (r === -ERRNO.EINTR);
      if (f.fd >= 0) closeSync(f.fd);
      if (r < 0) return;
    }
  }
}

/** runGofer is `runsc gofer --root DIR [--fd N] [--ro] [--dev]`; returns the exit code. */
export function runGofer(args: string[]): number {
  let parsed;
  try {
    parsed = parseFlags(GOFER_FLAGS, args);
  } catch (e) {
    process.stderr.write(`runsc gofer: ${(e as Error).message}\n`);
    return 2;
  }
  const { values, rest } = parsed;
  const root = values.root as string;
  const sock = values.fd as number;
  if (rest.length || !root.startsWith('/')) {
    process.stderr.write(`usage: runsc gofer --root /DIR [--fd N] [--ro] [--dev]\n${usage(GOFER_FLAGS)}\n`);
    return 2;
  }
  try {
    if (!fstatSync(sock).isSocket()) throw new Error('not a socket');
  } catch (e) {
    process.stderr.write(`runsc gofer: fd ${sock}: ${(e as Error).message}\n`);
    return 1;
  }
  const err = confine(root, values.ns as boolean, values.ro as boolean);
  if (err) {
    // Fail closed: never serve an unconfined tree.
    process.stderr.write(`runsc gofer: ${err}\n`);
    return 1;
  }
  if (!values['no-seccomp']) {
    const prog = goferFilter();
    try {
      installFilter(prog);
    } catch (e) {
      process.stderr.write(`runsc gofer: ${(e as Error).message}\n`);
      return 1;
    }
  }
  serve(sock, new GoferServer({ root: '/', readonly: values.ro as boolean, devices: values.dev as boolean }, clearNonblock));
  return 0;
}
