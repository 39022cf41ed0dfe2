// `runsc boot --bundle DIR --ready-fd N ID`: internal, the sandbox process
// `runsc create` starts (see boot/container_boot.ts).

import * as path from 'node:path';
import { bootContainer } from '../boot/container_boot.js';
import { containerDir, validateID } from '../container/state.js';
import { needArgs, parse, str } from './common.js';
import type { CmdCtx } from './common.js';

export function bootCmd(ctx: CmdCtx, args: string[]): Promise<number> {
  const { values, rest } = parse([
    { name: 'bundle', kind: 'string', help: 'the bundle directory', default: '' },
    { name: 'ready-fd', kind: 'int', help: 'fd to report readiness on', default: -1 },
    { name: 'gofers-fd', kind: 'int', help: 'fd of the Gofer handoff (JSON); the process then confines itself', default: -1 },
  ], args);
  needArgs('boot', rest, 1, 1, '--bundle DIR [--ready-fd N] <container-id>');
  const id = validateID(rest[0]);
  return bootContainer(ctx.conf, {
    bundle: path.resolve(str(values, 'bundle') || '.'),
    id,
    stateDir: containerDir(ctx.conf.root, id),
    readyFd: values['ready-fd'] as number,
    gofersFd: values['gofers-fd'] as number,
    systemdCgroup: ctx.flags['systemd-cgroup'] === true,
    ignoreCgroups: ctx.flags['ignore-cgroups'] === true,
  });
}
