// The container's mount plan, from config.json alone: what boot does with
// each of spec.mounts (mounts.ts builds the VFS from it in the sandbox).
// runsc create plans too, to know which host directories need a Gofer, so
// this file stays free of the Sentry's modules: the CLI bundle includes it.

import * as fs from 'node:fs';
import * as path from 'node:path';
import type { VolumeSpec } from '../../sentry/vfs/vfs.js';
import type { Spec } from '../specutils/spec.js';
import { SpecError } from '../specutils/spec.js';

export type MountKind = 'proc' | 'sysfs' | 'dev' | 'devpts' | 'tmpfs' | 'mqueue' | 'volume' | 'cgroup';

/** PlannedMount is one mount of the container, in mount order. */
export interface PlannedMount {
  kind: MountKind;
  destination: string;
  /** source: the device name /proc/self/mountinfo shows (the spec's). */
  source?: string;
  readonly: boolean;
  /** flags: the per-mount options kept and shown (nosuid, nodev, noexec). */
  flags: string[];
  /** tmpfs: mode= and size=. */
  mode?: number;
  size?: number;
  /** volume: the index in MountPlan.volumes. */
  volume?: number;
}

export interface MountPlan {
  /** mounts: every mount, in the order it is made. */
  mounts: PlannedMount[];
  /** volumes: host directories the Gofers serve (bind mounts), in spec order. */
  volumes: VolumeSpec[];
  /** files: single-file bind mounts, copied in. */
  files: { hostPath: string; destination: string; readonly: boolean }[];
  /** notes: mounts that are skipped, and why. */
  notes: string[];
}

/** Per-mount options the VFS keeps (nosuid holds anyway: set-user-ID bits
 *  are never honoured; nodev and noexec are enforced). */
const FLAGS = ['nosuid', 'nodev', 'noexec'];

/** Mounts every container gets, added (right after their parent mount) when
 *  the spec has none there: the Sentry's devices, ptys and /proc live in them. */
const MANDATORY: PlannedMount[] = [
  { kind: 'proc', destination: '/proc', source: 'proc', readonly: false, flags: ['nosuid', 'nodev', 'noexec'] },
  { kind: 'dev', destination: '/dev', source: 'tmpfs', readonly: false, flags: ['nosuid'], mode: 0o755 },
  { kind: 'devpts', destination: '/dev/pts', source: 'devpts', readonly: false, flags: ['nosuid', 'noexec'] },
  { kind: 'sysfs', destination: '/sys', source: 'sysfs', readonly: true, flags: ['nosuid', 'nodev', 'noexec'] },
];

/** parseSize reads tmpfs's size= (k, m, g suffixes). */
function parseSize(v: string): number | undefined {
  const m = /^(\d+)([kmgKMG]?)$/.exec(v);
  if (!m) return undefined;
  const mult = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[m[2].toLowerCase()] ?? 1;
  return Number(m[1]) * mult;
}

function isUnder(p: string, dir: string): boolean {
  return dir === '/' || p === dir || p.startsWith(dir + '/');
}

/** planMounts sorts spec.mounts into what boot does with each. */
export function planMounts(spec: Spec, bundle: string): MountPlan {
  const plan: MountPlan = { mounts: [], volumes: [], files: [], notes: [] };
  for (const m of spec.mounts ?? []) {
    const dest = path.posix.normalize(m.destination);
    const opts = m.options ?? [];
    const ro = opts.includes('ro');
    const flags = FLAGS.filter((f) => opts.includes(f));
    const type = m.type ?? '';
    const bind = type === 'bind' || opts.includes('bind') || opts.includes('rbind');
    if (bind) {
      if (!m.source) throw new SpecError(`mount ${dest}: a bind mount needs a source`);
      const src = path.resolve(bundle, m.source);
      let st: fs.Stats;
      try {
        st = fs.statSync(src);
      } catch {
        throw new SpecError(`mount ${dest}: source ${src}: no such file or directory`);
      }
      if (st.isDirectory()) {
        plan.mounts.push({ kind: 'volume', destination: dest, readonly: ro, flags, volume: plan.volumes.length });
        plan.volumes.push({ hostPath: src, guestPath: dest, readonly: ro });
      } else if (st.isFile()) {
        plan.files.push({ hostPath: src, destination: dest, readonly: ro });
      } else {
        plan.notes.push(`mount ${dest}: bind mount of a special file ${src} is not supported; skipped`);
      }
      continue;
    }
    const pm: PlannedMount = { kind: 'tmpfs', destination: dest, source: m.source, readonly: ro, flags };
    switch (type) {
      case 'proc':
        pm.kind = 'proc';
        break;
      case 'sysfs':
        // This sysfs is a read-only snapshot whatever the options say.
        pm.kind = 'sysfs';
        pm.readonly = true;
        break;
      case 'mqueue':
        pm.kind = 'mqueue';
        break;
      case 'cgroup':
      case 'cgroup2':
        // One cgroup v2 hierarchy, read-only: the sandbox's limits and usage (fsimpl/cgroupfs).
        pm.kind = 'cgroup';
        pm.readonly = true;
        break;
      case 'devpts':
        if (dest !== '/dev/pts') {
          plan.notes.push(`mount ${dest}: devpts is supported at /dev/pts only; skipped`);
          continue;
        }
        pm.kind = 'devpts';
        break;
      case 'tmpfs':
        // A tmpfs /dev is devfs: a tmpfs holding the devices the sandbox offers.
        if (dest === '/dev') pm.kind = 'dev';
        for (const o of opts) {
          if (o.startsWith('mode=')) pm.mode = parseInt(o.slice(5), 8);
          else if (o.startsWith('size=')) pm.size = parseSize(o.slice(5));
        }
        break;
      default:
        plan.notes.push(`mount ${dest} of type ${type || '(none)'} is not supported; skipped`);
        continue;
    }
    plan.mounts.push(pm);
  }
  for (const want of MANDATORY) {
    if (plan.mounts.some((m) => m.destination === want.destination)) continue;
    // After the last mount above it (devpts after the spec's /dev), else first.
    let at = 0;
    plan.mounts.forEach((m, i) => {
      if (isUnder(want.destination, m.destination)) at = i + 1;
    });
    plan.mounts.splice(at, 0, { ...want, flags: [...want.flags] });
  }
  return plan;
}
