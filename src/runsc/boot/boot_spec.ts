// What `runsc do` hands its sandbox process: types only, shared by runsc
// (sandbox/do_sandbox.ts) and the Sentry (boot/sandbox.ts) without either
// loading the other's modules.

import type { VolumeSpec } from '../../sentry/vfs/vfs.js';
import type { NetworkConfig } from '../../sentry/socket/netstack/stack.js';
import type { Config } from '../config/config.js';
import type { HostRlimits } from './host_rlimits.js';
import type { GuestFile } from './network.js';

export interface SandboxSpec {
  argv: string[];
  envp: string[];
  cwd: string;
  hostRoot: string;
  volumes: VolumeSpec[];
  hostname: string;
  /** ip is the sandbox's IPv4 address with --network=sandbox (do --ip). */
  ip?: string;
}

/** BootSpec is what runsc hands the sandbox process (as JSON in a memfd). */
export interface BootSpec extends SandboxSpec {
  conf: Config;
  /** rlimits: runsc's own (host_rlimits.ts), RLIM_INFINITY as -1 (JSON has no Infinity). */
  rlimits: HostRlimits;
  /** gofers: the host tree each Gofer serves and its socket's fd number in the sandbox. */
  gofers: { hostPath: string; fd: number }[];
  logFd: number;
  /** network is the link runsc made (--network=sandbox), its fds numbered as in the sandbox. */
  network?: NetworkConfig;
  /** files: /etc files for the sandbox's network (network.ts guestFiles), written into its root's upper layer. */
  files?: GuestFile[];
}
