// The entry point of a bundled process (dist/runsc.mjs, dist/gofer.mjs; see
// tools/bundle.mjs): it runs the CommonJS bundle of the same name (.cjs)
// with the V8 code cache made for its node options when there is one. It reads both first
// thing: a sandbox process gives up opening files later.

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { cachePath, compileBundle } from './bundle_script.js';

const self = fileURLToPath(import.meta.url);
const base = self.slice(0, -path.extname(self).length);
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
