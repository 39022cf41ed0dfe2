// Bundles the compiled entry points for fast start-up; the unbundled dist/
// stays for tests. Three programs: runsc (the CLI, run for every command
// Docker or containerd issues: it must stay small, so it holds no Sentry,
// checked below), sentry (the sandbox processes: `runsc boot`, `runsc
// sandbox`) and the Gofer. For each:
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
import { cliViolations } from '../dist/runsc/loader/cli_graph.js';

// The CLI runs with no node options (bin/runsc), the sandbox processes with
// SENTRY_NODE_ARGS (boot/sandbox launch sites); the Gofer with none
// (gofer/launcher.ts). A cache for other options would only serve an
// internal command typed by hand, which compiles without one.
const targets = [
  { name: 'runsc', entry: 'dist/runsc/main.js', optionSets: [[]], check: cliViolations },
  { name: 'sentry', entry: 'dist/runsc/sentry_main.js', optionSets: [SENTRY_NODE_ARGS] },
  { name: 'gofer', entry: 'dist/gofer/main.js', optionSets: [[]] },
];

const common = { bundle: true, platform: 'node', target: 'node20', logLevel: 'warning', legalComments: 'none' };
for (const t of targets) {
  const out = `dist/${t.name}`;
  // A cache never stays beside a bundle it was not made from.
  for (const f of readdirSync('dist')) if (f.startsWith(`${t.name}.`) && f.endsWith('.cache')) rmSync(`dist/${f}`);
  const r = await build({ ...common, format: 'cjs', entryPoints: [t.entry], outfile: `${out}.cjs`, metafile: Boolean(t.check),
    define: { 'import.meta.url': '__tsvisor_url' } }); // a parameter of the loader's wrapper (bundle_script.ts)
  const bad = t.check?.(Object.keys(r.metafile.inputs)) ?? [];
  if (bad.length) {
    rmSync(`${out}.cjs`);
    throw new Error(`dist/${t.name}.cjs must not include the Sentry (src/runsc/loader/cli_graph.ts), but holds:\n  ${bad.join('\n  ')}`);
  }
  await build({ ...common, format: 'esm', entryPoints: ['dist/runsc/loader/loader.js'], outfile: `${out}.mjs` });
  for (const opts of t.optionSets) {
    execFileSync(process.execPath, [...opts, 'dist/runsc/loader/make_cache.js', `${out}.cjs`], { stdio: 'inherit' });
  }
}
