// The Gofer's own entry point (lighter than dist/runsc/main.js: it loads the
// Gofer's modules only). Same flags as `runsc gofer`.

import { runGofer } from './gofer.js';

process.exitCode = runGofer(process.argv.slice(2));
