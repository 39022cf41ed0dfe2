// The runsc command line, shared by its two entry points: main.ts (the CLI:
// every command Docker, containerd and users call) and sentry_main.ts (the
// sandbox processes runsc starts: `boot`, `sandbox`). Global flags come
// before the subcommand; a subcommand's modules load when it runs.

import { FlagError, parseFlags, usage } from './config/flags.js';
import { GLOBAL_FLAGS, configFrom, prepareDebugLog } from './config/config.js';
import type { Config } from './config/config.js';
import type { FlagValues } from './config/flags.js';
import type { CmdCtx } from './cmd/common.js';
import { RuntimeError } from './container/state.js';
import { SpecError } from './specutils/spec.js';

export type Handler = (ctx: CmdCtx, args: string[]) => number | Promise<number>;

export interface Command {
  help: string;
  load: () => Promise<Handler>;
  internal?: boolean;
}

/** Commands maps each subcommand to its handler. */
export type Commands = Record<string, Command>;

/** INTERNAL_HELP: the commands of sentry_main.ts, which runsc starts itself. */
export const INTERNAL_HELP = {
  boot: 'launch a sandbox process (internal, started by create)',
  sandbox: 'the sandbox process of runsc do (internal, started by do)',
  gofer: 'serve a container mount to the Sentry (internal, started by runsc)',
} as const;

function help(commands: Commands): string {
  const visible = Object.entries(commands).filter(([, c]) => !c.internal);
  const internal = Object.entries(commands).filter(([, c]) => c.internal);
  const fmt = (l: [string, Command][]) => l.map(([k, c]) => `\t${k.padEnd(10)} ${c.help}`).join('\n');
  return `Usage: runsc [global flags] <subcommand> [subcommand flags] [args]\n\nSubcommands:\n${fmt(visible)}\n\n` +
    `Subcommands for internal use only:\n${fmt(internal)}\n\nGlobal flags:\n${usage(GLOBAL_FLAGS)}\n`;
}

let conf: Config | null = null;

async function main(commands: Commands, argv: string[]): Promise<number> {
  if (['-h', '-help', '--help'].includes(argv[0])) {
    process.stdout.write(help(commands));
    return 0;
  }
  const { values, rest } = parseFlags(GLOBAL_FLAGS, argv);
  conf = configFrom(values);
  const [cmd, ...args] = rest;
  if (!cmd || cmd === 'help' || cmd === '-h' || cmd === '--help') {
    process.stdout.write(help(commands));
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
  const c = Object.hasOwn(commands, cmd) ? commands[cmd] : undefined;
  if (c) prepareDebugLog(conf, cmd);
  if (!c) {
    process.stderr.write(`runsc: unknown subcommand ${JSON.stringify(cmd)}\n${help(commands)}`);
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

/** runCli runs the command process.argv names and exits with its status
 *  (through exit, process.exit unless given). */
export function runCli(commands: Commands, exit: (code: number) => void = (code) => process.exit(code)): void {
  main(commands, process.argv.slice(2)).then(
    (code) => exit(code),
    async (e: unknown) => {
      const msg = userError(e) ? e.message : e instanceof Error ? e.stack ?? e.message : String(e);
      if (conf) (await import('./cmd/log.js')).logError(conf, msg);
      else process.stderr.write(`runsc: ${msg}\n`);
      process.exit(e instanceof FlagError ? 2 : userError(e) ? 1 : 128);
    },
  );
}
