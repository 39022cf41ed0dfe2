// The sandbox processes' entry point (dist/sentry.mjs when bundled): the
// commands that run the Sentry, which runsc starts itself, with the same
// global flags. The CLI (main.ts) does not load the Sentry's modules.

import { INTERNAL_HELP, runCli } from './cli.js';
import type { Commands } from './cli.js';
import { native } from '../platform/ptrace/native.js';

/** SENTRY_COMMANDS: internal, started by runsc (create, do) or by hand for diagnosis. */
const SENTRY_COMMANDS: Commands = {
  boot: { help: INTERNAL_HELP.boot, internal: true,
    load: async () => (await import('./cmd/boot.js')).bootCmd },
  sandbox: { help: INTERNAL_HELP.sandbox, internal: true,
    load: async () => (await import('./cmd/sandbox.js')).sandboxCmd },
  gofer: { help: INTERNAL_HELP.gofer, internal: true,
    load: async () => { const m = await import('../gofer/gofer.js'); return (_ctx, a) => m.runGofer(a); } },
};

// A sandbox process ends without Node's teardown: its pool threads may be
// parked in blocking reads of host stdio or a TAP device, which the teardown
// would wait for (until the user typed a key, or a packet came). Its output
// is written synchronously, and it has no exit handlers.
runCli(SENTRY_COMMANDS, (code) => native.exitNow(code));
