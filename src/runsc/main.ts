// runsc: the tsvisor CLI, spelled like gVisor's runsc (and runc where Docker
// and containerd call it). Global flags come before the subcommand.
// Subcommands are loaded on demand, and none of them loads the Sentry: that
// runs in the sandbox processes, from their own entry point (sentry_main.ts,
// dist/sentry.mjs), so a quick `state` or `kill` compiles only the CLI
// (tools/bundle.mjs checks that its bundle holds no kernel module).

import { INTERNAL_HELP, runCli } from './cli.js';
import type { Commands, Handler } from './cli.js';

/** sentryEntry runs this process's command line through the Sentry's entry
 *  point instead (the internal commands, typed by hand): it exits the process. */
async function sentryEntry(): Promise<Handler> {
  const { distEntry } = await import('../platform/ptrace/native.js');
  const entry = distEntry('sentry.mjs', 'runsc/sentry_main.js');
  if (entry.endsWith('.mjs')) {
    (await import('./loader/run_bundle.js')).runBundle(entry.slice(0, -'.mjs'.length));
  } else {
    await import((await import('node:url')).pathToFileURL(entry).href);
  }
  return () => new Promise<number>(() => {}); // sentry_main exits
}

const COMMANDS: Commands = {
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
  boot: { help: INTERNAL_HELP.boot, internal: true, load: sentryEntry },
  sandbox: { help: INTERNAL_HELP.sandbox, internal: true, load: sentryEntry },
  gofer: { help: INTERNAL_HELP.gofer, internal: true, load: sentryEntry },
};

runCli(COMMANDS);
