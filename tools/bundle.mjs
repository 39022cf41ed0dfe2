// Bundles the compiled entry points into single files (dist/runsc.mjs,
// dist/gofer.mjs): Node then loads one module instead of ~200, which is most
// of a sandbox's start-up time. The unbundled dist/ stays for tests.
import { build } from 'esbuild';

const common = { bundle: true, platform: 'node', format: 'esm', target: 'node20', logLevel: 'warning', legalComments: 'none' };
await build({ ...common, entryPoints: ['dist/runsc/main.js'], outfile: 'dist/runsc.mjs' });
await build({ ...common, entryPoints: ['dist/gofer/main.js'], outfile: 'dist/gofer.mjs' });
