#!/usr/bin/env node
// The whole test suite: unit tests (dist/**/*.test.js), the C syscall test
// programs and the differential cases, ending with "N passed, N failed".
//
//   node test/run-all.mjs [--build] [-j N] [-v] [--keep] [--list] [--native-only]
//                         [--timeout-scale X] [PATTERN...]
//
// PATTERN selects cases whose name contains it (or matches it as a regular
// expression when it is one, e.g. '^c/'); several patterns are OR-ed.
// --build runs the TypeScript build first and counts it as a case.
// --native-only checks the cases themselves on this host (no sandbox runs).
// --timeout-scale multiplies every per-case timeout (slow machines).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { REPO, BUILD, run, runCase } from './diff/harness.mjs';
import { cases as shellCases, cProgramCases } from './diff/cases.mjs';

const args = process.argv.slice(2);
const opts = { build: false, jobs: Number(process.env.TSV_TEST_JOBS ?? 2), verbose: false, keep: false, list: false, nativeOnly: false,
  timeoutScale: Number(process.env.TSV_TEST_TIMEOUT_SCALE ?? 1) };
const patterns = [];
for (let i = 0; i < args.length; i++) {
  const a = args[i];
  if (a === '--build') opts.build = true;
  else if (a === '-j' || a === '--jobs') opts.jobs = Number(args[++i]);
  else if (/^-j\d+$/.test(a)) opts.jobs = Number(a.slice(2));
  else if (a === '-v' || a === '--verbose') opts.verbose = true;
  else if (a === '--keep') opts.keep = true;
  else if (a === '--list') opts.list = true;
  else if (a === '--native-only') opts.nativeOnly = true;
  else if (a === '--timeout-scale') opts.timeoutScale = Number(args[++i]);
  else if (a === '-h' || a === '--help') {
    console.log('usage: node test/run-all.mjs [--build] [-j N] [-v] [--keep] [--list] [--native-only] [--timeout-scale X] [PATTERN...]');
    process.exit(0);
  } else patterns.push(a);
}
if (!(opts.jobs >= 1)) opts.jobs = 1;

const matchers = patterns.map((p) => {
  let re = null;
  if (/[\^$*+?()[\]{}|\\]/.test(p)) {
    try { re = new RegExp(p); } catch { re = null; }
  }
  return (name) => name.includes(p) || (re !== null && re.test(name));
});
const selected = (name) => matchers.length === 0 || matchers.some((m) => m(name));

let passed = 0, failed = 0, skipped = 0;
const failures = [];
function report(r) {
  const secs = (r.ms / 1000).toFixed(1);
  if (r.status === 'pass') {
    passed++;
    console.log(`PASS ${r.name} (${secs}s)`);
  } else if (r.status === 'skip') {
    skipped++;
    console.log(`SKIP ${r.name}: ${r.details.join('; ')}`);
  } else {
    failed++;
    failures.push(r.name);
    console.log(`FAIL ${r.name} (${secs}s)`);
  }
  for (const d of r.status === 'skip' ? [] : r.details) console.log(`    ${d}`);
}

// 1. The TypeScript build (tsc still emits JS when some file has errors).
if (opts.build && selected('build/tsc')) {
  const t0 = Date.now();
  const tsc = path.join(REPO, 'node_modules', '.bin', 'tsc');
  const r = spawnSync(fs.existsSync(tsc) ? tsc : 'npx', fs.existsSync(tsc) ? ['-p', '.'] : ['tsc', '-p', '.'],
    { cwd: REPO, encoding: 'utf8', timeout: 600000 });
  const out = `${r.stdout ?? ''}${r.stderr ?? ''}`.trim().split('\n').filter(Boolean);
  // bin/runsc runs the bundle when there is one: rebuild it too, or tests run stale code.
  if (r.status === 0) {
    const b = spawnSync(process.execPath, ['tools/bundle.mjs'], { cwd: REPO, encoding: 'utf8', timeout: 300000 });
    if (b.status !== 0) { r.status = b.status; r.stderr = `${r.stderr ?? ''}bundle: ${b.stderr ?? ''}`; }
  }
  report({ name: 'build/tsc', status: r.status === 0 ? 'pass' : 'fail', ms: Date.now() - t0,
    details: r.status === 0 ? [] : [`tsc exited ${r.status ?? r.signal}`, ...out.slice(0, 30)] });
}

// 2. Unit tests beside the modules, one `node --test` per file.
function findTests(dir, out = []) {
  let ents;
  try { ents = fs.readdirSync(dir, { withFileTypes: true }); } catch { return out; }
  for (const e of ents) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) findTests(p, out);
    else if (e.name.endsWith('.test.js')) out.push(p);
  }
  return out;
}
// Integration tests written in JS under test/ (e.g. test/gofer/*.test.mjs) run the same way.
function findMjsTests(dir, out = []) {
  let ents;
  try { ents = fs.readdirSync(dir, { withFileTypes: true }); } catch { return out; }
  for (const e of ents) {
    const p = path.join(dir, e.name);
    if (e.isDirectory() && e.name !== 'build') findMjsTests(p, out);
    else if (e.name.endsWith('.test.mjs')) out.push(p);
  }
  return out;
}
const unitFiles = [
  ...findTests(path.join(REPO, 'dist')).sort()
    .map((f) => ({ file: f, name: `unit/${path.relative(path.join(REPO, 'dist'), f)}` })),
  ...findMjsTests(path.join(REPO, 'test')).sort()
    .map((f) => ({ file: f, name: `integration/${path.relative(path.join(REPO, 'test'), f)}` })),
].filter((u) => selected(u.name));
if (opts.list) for (const u of unitFiles) console.log(u.name);

async function runUnit(u) {
  const r = await run([process.execPath, '--test', '--test-reporter=tap', u.file], { timeout: 300000 });
  const tap = r.stdout.toString('utf8');
  const count = (k) => Number((new RegExp(`^# ${k} (\\d+)`, 'm').exec(tap) ?? [])[1] ?? 0);
  const ok = r.code === 0 && !r.timedOut;
  const details = [];
  if (!ok) {
    details.push(r.timedOut ? 'timed out' : `node --test exited ${r.code ?? r.signal}: ${count('pass')} passed, ${count('fail')} failed`);
    // Show the failing tests' TAP blocks, trimmed.
    const l = tap.split('\n');
    for (let i = 0; i < l.length && details.length < 60; i++) {
      if (/^\s*not ok /.test(l[i])) {
        details.push(l[i].trim());
        for (let k = i + 1; k < l.length && k < i + 25 && !/^\s*(not )?ok /.test(l[k]); k++) details.push(`  ${l[k]}`);
      }
    }
    if (details.length === 1) details.push(...r.stderr.toString('utf8').split('\n').slice(-20));
  }
  // A file whose every test skipped (an opt-in suite without its service) is a SKIP, not a pass.
  if (ok && count('tests') > 0 && count('skipped') === count('tests')) {
    const why = /# SKIP (.*)$/m.exec(tap);
    return { name: u.name, status: 'skip', ms: r.ms, details: [why ? why[1] : 'every test skipped'] };
  }
  return { name: u.name, status: ok ? 'pass' : 'fail', ms: r.ms, details };
}

// 3. C test programs, built once into test/build/ (rebuilt when stale).
const SRC = path.join(REPO, 'test', 'syscalls');
const STATIC_VARIANTS = ['fileio', 'process', 'mmap', 'robustness'];
function buildPrograms() {
  const sources = fs.existsSync(SRC) ? fs.readdirSync(SRC).filter((f) => f.endsWith('.c')).sort() : [];
  const wanted = [];
  for (const f of sources) {
    const base = f.slice(0, -2);
    // A program may ask for runsc flags with a "runsc-flags: ..." line (raw_sockets.c: --net-raw).
    const m = /^\s*\*?\s*runsc-flags:(.*)$/m.exec(fs.readFileSync(path.join(SRC, f), 'utf8'));
    const runscFlags = m ? m[1].trim().split(/\s+/).filter(Boolean) : undefined;
    wanted.push({ name: base, src: f, flags: [], runscFlags });
    if (STATIC_VARIANTS.includes(base)) wanted.push({ name: `${base}-static`, src: f, flags: ['-static'], runscFlags });
  }
  const todo = wanted.filter((w) => selected(`c/${w.name}`));
  if (!todo.length) return [];
  const gcc = spawnSync('gcc', ['--version'], { encoding: 'utf8' });
  if (gcc.error) return todo.map((w) => ({ name: w.name, skip: 'gcc is not installed' }));
  fs.mkdirSync(BUILD, { recursive: true });
  const header = path.join(SRC, 'test.h');
  const headerTime = fs.existsSync(header) ? fs.statSync(header).mtimeMs : 0;
  return todo.map((w) => {
    const out = path.join(BUILD, w.name);
    const srcPath = path.join(SRC, w.src);
    const fresh = fs.existsSync(out) && fs.statSync(out).mtimeMs >= Math.max(fs.statSync(srcPath).mtimeMs, headerTime);
    if (!fresh) {
      const r = spawnSync('gcc', ['-O1', ...w.flags, '-o', out, srcPath], { encoding: 'utf8' });
      if (r.status !== 0) {
        fs.rmSync(out, { force: true });
        return { name: w.name, path: out, error: `${r.stderr}${r.error ?? ''}` };
      }
    }
    return { name: w.name, path: out, runscFlags: w.runscFlags };
  });
}

// 4. Differential cases.
const programs = opts.list ? [] : buildPrograms();
const cCases = cProgramCases(programs.filter((p) => !p.skip));
for (const p of programs.filter((p) => p.skip)) cCases.push({ name: `c/${p.name}`, skip: p.skip, argv: [] });
const diffCases = [...shellCases, ...cCases].filter((c) => selected(c.name));
const names = new Set();
for (const c of diffCases) {
  if (names.has(c.name)) throw new Error(`duplicate case name ${c.name}`);
  names.add(c.name);
}
if (opts.list) {
  for (const c of diffCases) console.log(c.name);
  process.exit(0);
}

// Unit tests first (fast, and they explain many sandbox failures), then the
// differential cases with a small worker pool.
for (const u of unitFiles) report(await runUnit(u));

let next = 0;
async function worker() {
  while (next < diffCases.length) {
    const i = next++;
    report(await runCase(diffCases[i], i, opts));
  }
}
await Promise.all(Array.from({ length: Math.min(opts.jobs, diffCases.length || 1) }, worker));

if (failures.length) {
  console.log(`\nfailed: ${failures.join(' ')}`);
}
if (skipped) console.log(`${skipped} skipped`);
console.log(`${passed} passed, ${failed} failed`);
process.exitCode = failed ? 1 : 0;
