// Shared pieces of the container commands: flag parsing with runc's short
// aliases (-b for --bundle...), and argument checks.

import { parseFlags } from '../config/flags.js';
import type { FlagSpec, FlagValues } from '../config/flags.js';
import type { Config } from '../config/config.js';
import { RuntimeError } from '../container/state.js';
import type { Ctx } from '../container/container.js';

export type { Ctx } from '../container/container.js';

/** CmdCtx is Ctx plus the parsed global flag values. */
export interface CmdCtx extends Ctx {
  conf: Config;
  flags: FlagValues;
}

export interface Parsed {
  values: FlagValues;
  rest: string[];
}

/** parse parses a command's flags; aliases maps a short name to its long one. */
export function parse(specs: FlagSpec[], args: string[], aliases: Record<string, string> = {}): Parsed {
  const all = [...specs];
  for (const [short, long] of Object.entries(aliases)) {
    const s = specs.find((x) => x.name === long);
    if (s) all.push({ ...s, name: short, default: undefined });
  }
  const { values, rest } = parseFlags(all, args);
  for (const [short, long] of Object.entries(aliases)) {
    if (values[short] === undefined) continue;
    const v = values[short];
    if (Array.isArray(v)) values[long] = [...((values[long] as string[] | undefined) ?? []), ...v];
    else values[long] = v;
    delete values[short];
  }
  return { values, rest };
}

/** needArgs checks the positional arguments' count. */
export function needArgs(cmd: string, rest: string[], min: number, max: number, usage: string): void {
  if (rest.length < min || rest.length > max) {
    throw new RuntimeError(`${cmd}: ${rest.length < min ? 'missing' : 'too many'} arguments; usage: runsc ${cmd} ${usage}`);
  }
}

export const str = (v: FlagValues, k: string): string => (v[k] as string | undefined) ?? '';
export const bool = (v: FlagValues, k: string): boolean => v[k] === true;
export const list = (v: FlagValues, k: string): string[] => (v[k] as string[] | undefined) ?? [];
