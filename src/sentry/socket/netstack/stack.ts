// The sandbox's network stack: one netstack Stack per Kernel, made on first
// use, with a loopback NIC carrying 127.0.0.1/8 and ::1/128. Every network
// mode gets only loopback for now (no veth/TAP link yet, no host passthrough).

import type { Kernel } from '../../kernel/kernel.js';
import { LoopbackEndpoint, Stack, ipv4, ipv6, realClock } from '../../../netstack/index.js';

const stacks = new WeakMap<Kernel, Stack>();

/** newLoopbackStack builds a stack with only the loopback interface. */
export function newLoopbackStack(): Stack {
  const s = new Stack({ clock: realClock });
  const lo = s.createNIC(new LoopbackEndpoint());
  s.addAddress(lo.id, ipv4('127.0.0.1'), 8);
  s.addAddress(lo.id, ipv6('::1'), 128);
  return s;
}

/** stackFor returns k's network stack, creating it on first use. */
export function stackFor(k: Kernel): Stack {
  let s = stacks.get(k);
  if (!s) {
    s = newLoopbackStack();
    stacks.set(k, s);
  }
  return s;
}

/** existingStack returns k's stack if one was made (procfs need not create it). */
export function existingStack(k: Kernel): Stack | null {
  return stacks.get(k) ?? null;
}
