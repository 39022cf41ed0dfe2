// runsc: the tsvisor CLI, spelled like gVisor's runsc (and runc where Docker
// and containerd call it). Global flags come before the subcommand.
// Subcommands are loaded on demand: a quick `state` or `kill` must not pay
// for loading the whole Sentry.

import { FlagError, parseFlags, usage } from './config/flags.js';
import { GLOBAL_FLAGS, configFrom, prepareDebugLog } from './config/config.js';
import type { Config } from './config/config.js';
import type { FlagValues } from './config/flags.js';
import type { CmdCtx } from './cmd/common.js';
import { RuntimeError } from './container/state.js';
import { SpecError } from './specutils/spec.js';

type Handler = (ctx: CmdCtx, args: string[]) => number | Promise<number>;

interface Command {
  help: string;
  load: () => Promise<Handler>;
  internal?: boolean;
}

const COMMANDS: Record<string, Command> = {
  do: { help: 'Simplistic way to execute a command inside the sandbox',
    load: async () => { const m = await import('./cmd/do.js'); return (ctx, a) => m.doCmd(ctx.conf, a); } },
  create: { help: 'create a container', load: async () => (await import('./cmd/lifecycle.js')).create },
  start: { help: 'start a created container', load: async () => (await import('./cmd/lifecycle.js')).start },
  run: { help: 'create and run a container', load: async () => (await import('./cmd/lifecycle.js')).run },
  state: { help: 'get the state of a container', load: async () => (await import('./cmd/lifecycle.js')).state },
  kill: { help: 'send a signal to a container', load: async () => (await import('./cmd/lifecycle.js')).kill },
  delete: { help: 'delete resources held by a container', load: async () => (await import('./cmd/lifecycle.js')).del },
  wait: { help: 'wait on a process inside a container', load: async () => (await import('./cmd/lifecycle.js')).wait },
  exec: { help: 'execute a new process inside the container', load: async () => (await import('./cmd/exec.js')).exec },
  list: { help: 'list containers started by runsc with the given root', load: async () => (await import('./cmd/info.js')).listCmd },
  ps: { help: 'processes running inside a container', load: async () => (await import('./cmd/info.js')).psCmd },
  events: { help: 'display container events (resource usage statistics)', load: async () => (await import('./cmd/info.js')).eventsCmd },
  pause: { help: 'pause suspends all processes in a container', load: async () => (await import('./cmd/manage.js')).pauseCmd },
  resume: { help: 'resume unpauses a paused container', load: async () => (await import('./cmd/manage.js')).resumeCmd },
  update: { help: 'update container resource constraints', load: async () => (await import('./cmd/manage.js')).updateCmd },
  checkpoint: { help: 'checkpoint a container (not supported yet)', load: async () => (await import('./cmd/manage.js')).checkpointCmd },
  restore: { help: 'restore a container (not supported yet)', load: async () => (await import('./cmd/manage.js')).restoreCmd },
  spec: { help: 'create a new OCI bundle specification file', load: async () => (await import('./cmd/spec.js')).specCmd },
  install: { help: 'adds a runtime to Docker\'s daemon.json (flags after -- become its runtimeArgs)',
    load: async () => (await import('./cmd/install.js')).installCmd },
  uninstall: { help: 'removes a runtime from Docker\'s daemon.json', load: async () => (await import('./cmd/install.js')).uninstallCmd },
  features: { help: 'show the enabled features', load: async () => (await import('./cmd/spec.js')).featuresCmd },
  boot: { help: 'launch a sandbox process (internal, started by create)', internal: true,
    load: async () => (await import('./cmd/boot.js')).bootCmd },
  sandbox: { help: 'the sandbox process of runsc do (internal, started by do)', internal: true,
    load: async () => (await import('./cmd/sandbox.js')).sandboxCmd },
  gofer: { help: 'serve a container mount to the Sentry (internal, started by runsc)', internal: true,
    load: async () => { const m = await import('../gofer/gofer.js'); return (_ctx, a) => m.runGofer(a); } },
};

function help(): string {
  const visible = Object.entries(COMMANDS).filter(([, c]) => !c.internal);
  const internal = Object.entries(COMMANDS).filter(([, c]) => c.internal);
  const fmt = (l: [string, Command][]) => l.map(([k, c]) => `\t${k.padEnd(10)} ${c.help}`).join('\n');
  return `Usage: runsc [global flags] <subcommand> [subcommand flags] [args]\n\nSubcommands:\n${fmt(visible)}\n\n` +
    `Subcommands for internal use only:\n${fmt(internal)}\n\nGlobal flags:\n${usage(GLOBAL_FLAGS)}\n`;
}

let conf: Config | null = null;

async function main(argv: string[]): Promise<number> {
  if (['-h', '-help', '--help'].includes(argv[0])) {
    process.stdout.write(help());
    return 0;
  }
  const { values, rest } = parseFlags(GLOBAL_FLAGS, argv);
  conf = configFrom(values);
  const [cmd, ...args] = rest;
  if (!cmd || cmd === 'help' || cmd === '-h' || cmd === '--help') {
    process.stdout.write(help());
    return cmd ? 0 : 2;
  }
  if (conf.platform !== 'ptrace') {
    process.stderr.write(`runsc: unknown platform ${JSON.stringify(conf.platform)} (available: ptrace)\n`);
    return 1;
  }
  if (!['sandbox', 'none', 'host'].includes(conf.network)) {
    process.stderr.write(`runsc: invalid network type ${JSON.stringify(conf.network)} (sandbox, none or host)\n`);
    return 1;
  }
  const c = COMMANDS[cmd];
  if (c) prepareDebugLog(conf, cmd);
  if (!c) {
    process.stderr.write(`runsc: unknown subcommand ${JSON.stringify(cmd)}\n${help()}`);
    return 2;
  }
  const handler = await c.load();
  const log = await import('./cmd/log.js');
  const cfg = conf;
  const ctx: CmdCtx = {
    conf: cfg, flags: values as FlagValues, globalArgs: argv.slice(0, argv.length - rest.length),
    warn: (m) => log.logWarning(cfg, m),
  };
  return handler(ctx, args);
}

/** userError reports whether e is an error for the user (no stack trace). */
function userError(e: unknown): e is Error {
  return e instanceof RuntimeError || e instanceof SpecError || e instanceof FlagError;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  async (e: unknown) => {
    const msg = userError(e) ? e.message : e instanceof Error ? e.stack ?? e.message : String(e);
    if (conf) (await import('./cmd/log.js')).logError(conf, msg);
    else process.stderr.write(`runsc: ${msg}\n`);
    process.exit(e instanceof FlagError ? 2 : userError(e) ? 1 : 128);
  },
);
