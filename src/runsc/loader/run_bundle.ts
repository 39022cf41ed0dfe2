// runBundle runs a CommonJS bundle of tools/bundle.mjs (base.cjs) with the
// V8 code cache made for this process's node options, when there is one.
// It reads both first thing: a sandbox process gives up opening files later.

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { cachePath, compileBundle } from './bundle_script.js';

/** runBundle runs base.cjs (base: its path without the extension). */
export function runBundle(base: string): void {
  const file = `${base}.cjs`;
  const src = readFileSync(file);
  let cache: Buffer | undefined;
  try {
    cache = readFileSync(cachePath(base, process.execArgv));
  } catch {
    // None: V8 compiles the bundle as it would any script.
  }
  const { main } = compileBundle(src, file, cache);
  const module = { exports: {} };
  main(module.exports, createRequire(file), module, file, path.dirname(file), pathToFileURL(file).href);
}
