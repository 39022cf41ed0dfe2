// `runsc gofer`: the file server of one container mount (gVisor's internal
// `runsc gofer` command). Started by runsc with its end of a SOCK_SEQPACKET
// socketpair; it confines itself to its root with chroot, then answers the
// Sentry's requests until the Sentry closes the socket (or dies).
//
// Confinement is chroot for now (issue 7 moves it into a mount namespace with
// pivot_root, drops capabilities and adds seccomp). Every module is loaded by
// the static imports below before the chroot: nothing is loaded after.

import { closeSync, fstatSync } from 'node:fs';
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
];

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
  const r = native.chroot(root);
  if (r < 0) {
    // Fail closed: never serve an unconfined tree.
    process.stderr.write(`runsc gofer: chroot(${root}) failed: errno ${-r} (needs CAP_SYS_CHROOT)\n`);
    return 1;
  }
  serve(sock, new GoferServer({ root: '/', readonly: values.ro as boolean, devices: values.dev as boolean }, clearNonblock));
  return 0;
}
