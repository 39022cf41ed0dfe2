// make_cache BUNDLE.cjs: writes the V8 code cache of a CommonJS bundle for
// this process's node options (tools/bundle.mjs runs it under each set the
// bundle runs with), where the loader looks for it.

import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { cachePath, makeCodeCache } from './bundle_script.js';

const [file] = process.argv.slice(2);
if (!file?.endsWith('.cjs')) {
  process.stderr.write('usage: make_cache BUNDLE.cjs\n');
  process.exit(2);
}
writeFileSync(cachePath(file.slice(0, -'.cjs'.length), process.execArgv), makeCodeCache(readFileSync(file), resolve(file)));
