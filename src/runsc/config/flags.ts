// Command-line flags with Go's flag package semantics, as gVisor's runsc and
// runc accept them: `-name` and `--name` are the same flag, values come as
// `-name=value` or `-name value`, booleans as `-name` or `-name=false`, and
// parsing stops at the first non-flag argument or `--`. No npm parser speaks
// this dialect (single-dash long flags are what containerd sends).

export type FlagKind = 'bool' | 'string' | 'int' | 'list';

export interface FlagSpec {
  name: string;
  kind: FlagKind;
  help: string;
  default?: string | boolean | number | string[];
}

export type FlagValues = Record<string, string | boolean | number | string[]>;

export class FlagError extends Error {}

/** parseFlags consumes leading flags from args; returns the values and the rest. */
export function parseFlags(specs: FlagSpec[], args: string[]): { values: FlagValues; rest: string[] } {
  const byName = new Map(specs.map((s) => [s.name, s]));
  const values: FlagValues = {};
  for (const s of specs) if (s.default !== undefined) values[s.name] = Array.isArray(s.default) ? [...s.default] : s.default;
  let i = 0;
  for (; i < args.length; i++) {
    const arg = args[i];
    if (arg === '--') {
      i++;
      break;
    }
    if (!arg.startsWith('-') || arg === '-') break;
    const body = arg.replace(/^--?/, '');
    const eq = body.indexOf('=');
    const name = eq >= 0 ? body.slice(0, eq) : body;
    const spec = byName.get(name);
    if (!spec) throw new FlagError(`flag provided but not defined: -${name}`);
    let value: string | undefined = eq >= 0 ? body.slice(eq + 1) : undefined;
    if (spec.kind === 'bool') {
      if (value === undefined) values[name] = true;
      else if (/^(1|t|true|TRUE|True)$/.test(value)) values[name] = true;
      else if (/^(0|f|false|FALSE|False)$/.test(value)) values[name] = false;
      else throw new FlagError(`invalid boolean value "${value}" for -${name}`);
      continue;
    }
    if (value === undefined) {
      if (i + 1 >= args.length) throw new FlagError(`flag needs an argument: -${name}`);
      value = args[++i];
    }
    if (spec.kind === 'int') {
      const n = Number(value);
      if (!Number.isInteger(n)) throw new FlagError(`invalid value "${value}" for flag -${name}`);
      values[name] = n;
    } else if (spec.kind === 'list') {
      (values[name] as string[] | undefined)?.push(value) ?? (values[name] = [value]);
    } else {
      values[name] = value;
    }
  }
  return { values, rest: args.slice(i) };
}

/** usage renders flag help lines. */
export function usage(specs: FlagSpec[]): string {
  return specs
    .map((s) => `  -${s.name}${s.kind === 'bool' ? '' : ' ' + s.kind}\n\t${s.help}` +
      (s.default !== undefined && s.default !== '' && s.default !== false ? ` (default ${JSON.stringify(s.default)})` : ''))
    .join('\n');
}
