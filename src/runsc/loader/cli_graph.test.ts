import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { cliViolations } from './cli_graph.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

test('cliViolations names the Sentry modules, and lets the Gofer client through', () => {
  assert.deepEqual(cliViolations([
    'dist/runsc/main.js', 'dist/runsc/cmd/lifecycle.js', 'dist/sentry/fsimpl/gofer/client.js',
    'dist/sentry/fsimpl/hostfs/host_fs.js', 'dist/platform/ptrace/native.js', 'node_modules/x/index.js',
    'dist/sentry/kernel/kernel.js', 'dist/sentry/vfs/vfs.js', 'dist/sentry/fsimpl/gofer/other.js',
    'dist/netstack/stack/stack.js', 'dist/seccomp/seccomp.js', 'dist/platform/ptrace/ptrace.js',
  ]), ['dist/sentry/kernel/kernel.js', 'dist/sentry/vfs/vfs.js', 'dist/sentry/fsimpl/gofer/other.js',
    'dist/netstack/stack/stack.js', 'dist/seccomp/seccomp.js', 'dist/platform/ptrace/ptrace.js']);
});

test('the CLI entry point does not import the Sentry', { skip: !existsSync(path.join(ROOT, 'node_modules/esbuild')) && 'no esbuild' }, async () => {
  const { build } = await import('esbuild');
  const r = await build({
    entryPoints: [path.join(ROOT, 'dist/runsc/main.js')], absWorkingDir: ROOT, bundle: true, platform: 'node',
    format: 'cjs', write: false, metafile: true, logLevel: 'silent', outfile: path.join(ROOT, 'dist/x.cjs'),
  });
  const inputs = Object.keys(r.metafile.inputs);
  assert.ok(inputs.includes('dist/runsc/cmd/lifecycle.js') && inputs.includes('dist/runsc/cmd/do.js'), 'the graph was followed');
  assert.deepEqual(cliViolations(inputs), []);
});
