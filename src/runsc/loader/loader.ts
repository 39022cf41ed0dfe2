// The entry point of a bundled process (dist/runsc.mjs, dist/sentry.mjs,
// dist/gofer.mjs; see tools/bundle.mjs): it runs the CommonJS bundle of the
// same name (.cjs) with the V8 code cache made for its node options when
// there is one.

import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { runBundle } from './run_bundle.js';

const self = fileURLToPath(import.meta.url);
runBundle(self.slice(0, -path.extname(self).length));
