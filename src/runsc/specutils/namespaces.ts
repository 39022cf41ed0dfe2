// linux.namespaces entries with a path. A sandboxed container's processes
// live in the Sentry's own namespaces, never in the host's: a network
// namespace path is honoured (boot/netns.ts takes its interfaces over), the
// other types cannot be joined by a guest (as in gVisor). runsc still checks
// that every path names a namespace of the stated type, as runc does, so a
// wrong spec fails at create instead of silently running.

import * as fs from 'node:fs';
import { native } from '../../platform/ptrace/native.js';
import type { Spec } from './spec.js';
import { SpecError } from './spec.js';

/** NS_GET_NSTYPE (linux/nsfs.h, _IO(0xb7, 0x3)): the CLONE_NEW* flag of a namespace file. */
const NS_GET_NSTYPE = 0xb703;

/** NS_TYPES maps the spec's namespace types to their CLONE_NEW* flags. */
export const NS_TYPES: Readonly<Record<string, number>> = {
  mount: 0x00020000,
  cgroup: 0x02000000,
  uts: 0x04000000,
  ipc: 0x08000000,
  user: 0x10000000,
  pid: 0x20000000,
  network: 0x40000000,
  time: 0x00000080,
};

/** nsTypeOf returns the CLONE_NEW* type of the namespace file at p, or throws SpecError. */
export function nsTypeOf(p: string): number {
  let fd: number;
  try {
    fd = fs.openSync(p, fs.constants.O_RDONLY);
  } catch (e) {
    throw new SpecError(`namespace path ${p}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  try {
    const t = native.ioctl(fd, NS_GET_NSTYPE, null, 0);
    if (t < 0) throw new SpecError(`namespace path ${p}: not a namespace file`);
    return t;
  } finally {
    fs.closeSync(fd);
  }
}

/** checkNamespacePaths checks linux.namespaces: known types, each once, and
 *  each path a namespace of its type. Returns the types whose path the
 *  sandbox does not join (for a warning). */
export function checkNamespacePaths(spec: Spec): string[] {
  const seen = new Set<string>();
  const notJoined: string[] = [];
  for (const ns of spec.linux?.namespaces ?? []) {
    const want = NS_TYPES[ns.type];
    if (want === undefined) throw new SpecError(`linux.namespaces: unknown namespace type ${JSON.stringify(ns.type)}`);
    if (seen.has(ns.type)) throw new SpecError(`linux.namespaces: ${ns.type} given twice`);
    seen.add(ns.type);
    if (!ns.path) continue;
    const got = nsTypeOf(ns.path);
    if (got !== want) {
      const name = Object.keys(NS_TYPES).find((k) => NS_TYPES[k] === got) ?? `type ${got}`;
      throw new SpecError(`linux.namespaces: ${ns.path} is not a ${ns.type} namespace (it is ${name})`);
    }
    if (ns.type !== 'network') notJoined.push(ns.type);
  }
  return notJoined;
}
