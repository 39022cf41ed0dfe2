// `runsc spec` (a default config.json) and `runsc features` (what this
// runtime supports, in the shape of runc's features document).

import * as fs from 'node:fs';
import * as path from 'node:path';
import { RuntimeError } from '../container/state.js';
import { CAPABILITY_NAMES, HOOK_KINDS, defaultSpec } from '../specutils/spec.js';
import { parse, str } from './common.js';
import type { CmdCtx } from './common.js';

export function specCmd(_ctx: CmdCtx, args: string[]): number {
  const { values, rest } = parse([
    { name: 'bundle', kind: 'string', help: 'directory to write config.json in (default: the current one)', default: '' },
    { name: 'cwd', kind: 'string', help: 'working directory of the process', default: '/' },
    { name: 'netns', kind: 'string', help: 'accepted (gVisor)', default: '' },
    { name: 'rootless', kind: 'bool', help: 'accepted (runc)', default: false },
  ], args, { b: 'bundle' });
  const file = path.join(str(values, 'bundle') || '.', 'config.json');
  if (fs.existsSync(file)) throw new RuntimeError(`File ${file} exists. Remove it first`);
  const spec = defaultSpec(rest.length ? rest : undefined, str(values, 'cwd') || '/');
  try {
    fs.writeFileSync(file, JSON.stringify(spec, null, '\t') + '\n', { mode: 0o666 });
  } catch (e) {
    throw new RuntimeError(`writing ${file}: ${(e as Error).message}`);
  }
  return 0;
}

export function featuresCmd(): number {
  const features = {
    ociVersionMin: '1.0.0',
    ociVersionMax: '1.1.0',
    hooks: [...HOOK_KINDS],
    mountOptions: ['bind', 'rbind', 'ro', 'rw', 'mode', 'size', 'nosuid', 'nodev', 'noexec'],
    linux: {
      namespaces: ['cgroup', 'ipc', 'mount', 'network', 'pid', 'user', 'uts'],
      capabilities: [...CAPABILITY_NAMES],
      cgroup: { v1: true, v2: true, systemd: false, systemdUser: false },
      seccomp: { enabled: false },
      apparmor: { enabled: false },
      selinux: { enabled: false },
    },
    annotations: {
      'org.opencontainers.runc.checkpoint.enabled': 'false',
      'dev.tsvisor.platform': 'ptrace',
    },
  };
  process.stdout.write(JSON.stringify(features, null, '    ') + '\n');
  return 0;
}
