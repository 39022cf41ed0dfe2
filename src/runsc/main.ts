// runsc: the tsvisor CLI, spelled like gVisor's runsc (and runc where Docker
// and containerd call it). Global flags come before the subcommand.

import { FlagError, parseFlags, usage } from './config/flags.js';
import { GLOBAL_FLAGS, configFrom } from './config/config.js';
import { doCmd } from './cmd/do.js';

const COMMANDS: Record<string, string> = {
  do: 'Simplistic way to execute a command inside the sandbox',
  create: 'create a container (not implemented yet)',
  start: 'start a created container (not implemented yet)',
  run: 'create and run a container (not implemented yet)',
  state: 'get the state of a container (not implemented yet)',
  kill: 'send a signal to a container (not implemented yet)',
  delete: 'delete resources held by a container (not implemented yet)',
  exec: 'execute a new process inside the container (not implemented yet)',
  list: 'list containers started by runsc (not implemented yet)',
  ps: 'processes running inside a container (not implemented yet)',
  wait: 'wait on a process inside a container (not implemented yet)',
  events: 'display container events (not implemented yet)',
  pause: 'pause suspends all processes in a container (not implemented yet)',
  resume: 'resume unpauses a paused container (not implemented yet)',
  spec: 'create a new OCI bundle specification file (not implemented yet)',
};

function help(): string {
  return `Usage: runsc [global flags] <subcommand> [subcommand flags] [args]\n\nSubcommands:\n${
    Object.entries(COMMANDS).map(([k, v]) => `\t${k.padEnd(10)} ${v}`).join('\n')}\n\nGlobal flags:\n${usage(GLOBAL_FLAGS)}\n`;
}

async function main(argv: string[]): Promise<number> {
  const { values, rest } = parseFlags(GLOBAL_FLAGS, argv);
  const conf = configFrom(values);
  const [cmd, ...args] = rest;
  if (!cmd || cmd === 'help' || cmd === '-h' || cmd === '--help') {
    process.stdout.write(help());
    return cmd ? 0 : 2;
  }
  if (conf.platform !== 'ptrace') {
    process.stderr.write(`runsc: unknown platform ${JSON.stringify(conf.platform)} (available: ptrace)\n`);
    return 1;
  }
  switch (cmd) {
    case 'do':
      return doCmd(conf, args);
    default:
      if (cmd in COMMANDS) {
        process.stderr.write(`runsc: ${cmd}: not implemented yet\n`);
        return 1;
      }
      process.stderr.write(`runsc: unknown subcommand ${JSON.stringify(cmd)}\n${help()}`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: unknown) => {
    if (e instanceof FlagError) {
      process.stderr.write(`runsc: ${e.message}\n`);
      process.exit(2);
    }
    process.stderr.write(`runsc: ${e instanceof Error ? e.stack ?? e.message : String(e)}\n`);
    process.exit(128);
  },
);
