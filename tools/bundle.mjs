// Bundles the compiled entry points for fast start-up; the unbundled dist/
// stays for tests. For each of runsc and the Gofer:
//   dist/NAME.cjs      the whole program in one CommonJS file: Node then
//                      loads one module instead of ~200;
//   dist/NAME*.cache   its V8 code caches, every function compiled, one per
//                      set of node options the process runs with (V8 refuses
//                      a cache made under other flags);
//   dist/NAME.mjs      the entry point (src/runsc/loader): runs NAME.cjs
//                      with the cache for its options.
// CommonJS because vm.Script, which takes a code cache, runs scripts only.
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { readdirSync, rmSync } from 'node:fs';
import { SENTRY_NODE_ARGS } from '../dist/runsc/loader/bundle_script.js';

// The CLI runs with none (bin/runsc), the sandbox process with
// SENTRY_NODE_ARGS; the Gofer with none (gofer/launcher.ts).
const targets = [
  { name: 'runsc', entry: 'dist/runsc/main.js', optionSets: [[], SENTRY_NODE_ARGS] },
  { name: 'gofer', entry: 'dist/gofer/main.js', optionSets: [[]] },
];

const common = { bundle: true, platform: 'node', target: 'node20', logLevel: 'warning', legalComments: 'none' };
for (const t of targets) {
  const out = `dist/${t.name}`;
  // A cache never stays beside a bundle it was not made from.
  for (const f of readdirSync('dist')) if (f.startsWith(`${t.name}.`) && f.endsWith('.cache')) rmSync(`dist/${f}`);
  await build({ ...common, format: 'cjs', entryPoints: [t.entry], outfile: `${out}.cjs`,
    define: { 'import.meta.url': '__tsvisor_url' } }); // a parameter of the loader's wrapper (bundle_script.ts)
  await build({ ...common, format: 'esm', entryPoints: ['dist/runsc/loader/loader.js'], outfile: `${out}.mjs` });
  for (const opts of t.optionSets) {
    execFileSync(process.execPath, [...opts, 'dist/runsc/loader/make_cache.js', `${out}.cjs`], { stdio: 'inherit' });
  }
}
