#!/usr/bin/env node
// The syscall fuzzer's runner (issue 7): runs test/fuzz/fuzz.c as a guest of
// `./bin/runsc do --root <scratch busybox root>` with successive seeds for a
// given time, and fails when the Sentry misbehaves:
//   - runsc does not end with the guest's own exit (0) and its summary line;
//   - the Sentry logs an internal error ("Sentry bug", a JS exception, a Node
//     warning) on stderr or in its --debug-log;
//   - a run hangs past its timeout;
//   - files on the host changed (the scratch root, a marker beside it).
//
//   npm run fuzz -- --minutes 10             successive seeds from 1 for 10 minutes
//   npm run fuzz -- --seed 42 --runs 1       one seed
//   node bench/fuzz.mjs --seed 7 --calls 20000 --batch 200 --only-batch 13   replay one batch
//
// Options: --minutes M (default 10), --seed S (first seed, default 1),
// --runs N (stop after N runs), --calls N per run (default 20000), --batch N
// (calls per child, default 200), --only-batch B, --runsc 'CMD ...', --keep
// (leave the scratch directory), --quiet. Exit status 0 iff no run failed.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildStatic, makeRootfs, runGuest, treeDigest } from '../test/escape/lib.mjs';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** Lines that mean the Sentry itself went wrong, not the guest. */
export const SENTRY_TROUBLE = /Sentry bug|TypeError|RangeError|ReferenceError|SyntaxError|AssertionError|Uncaught|unhandled|Warning:|^runsc: |FATAL|Segmentation fault|Aborted|out of memory/im;

export function parseArgs(argv) {
  const o = { minutes: 10, seed: 1, runs: Infinity, calls: 20000, batch: 200, onlyBatch: null, runsc: null, keep: false, quiet: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const v = () => argv[++i];
    if (a === '--minutes') o.minutes = Number(v());
    else if (a === '--seed') o.seed = Number(v());
    else if (a === '--runs') o.runs = Number(v());
    else if (a === '--calls') o.calls = Number(v());
    else if (a === '--batch') o.batch = Number(v());
    else if (a === '--only-batch') o.onlyBatch = Number(v());
    else if (a === '--runsc') o.runsc = v();
    else if (a === '--keep') o.keep = true;
    else if (a === '--quiet') o.quiet = true;
    else if (a === '-h' || a === '--help') {
      console.log('usage: node bench/fuzz.mjs [--minutes M] [--seed S] [--runs N] [--calls N] [--batch N] [--only-batch B] [--runsc CMD] [--keep] [--quiet]');
      process.exit(0);
    } else throw new Error(`unknown option ${a}`);
  }
  return o;
}

/**
 * fuzz runs the fuzzer with successive seeds. Returns
 * { runs, calls, batches, killed, timeouts, failures: [{seed, problems}] }.
 */
export async function fuzz(opts, log = console.log) {
  const runsc = opts.runsc ? opts.runsc.trim().split(/\s+/) : [path.join(REPO, 'bin', 'runsc')];
  const bin = buildStatic(path.join(REPO, 'test', 'fuzz', 'fuzz.c'), path.join(REPO, 'test', 'build', 'fuzz-static'));
  const tmp = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'tsv-fuzz-')));
  const rootfs = path.join(tmp, 'rootfs');
  makeRootfs(rootfs, { '/fuzz': bin });
  const marker = path.join(tmp, 'marker');
  fs.writeFileSync(marker, 'host marker\n');
  const before = treeDigest(rootfs);
  const total = { runs: 0, calls: 0, batches: 0, killed: 0, timeouts: 0, failures: [] };
  const end = Date.now() + opts.minutes * 60000;
  // A run's budget: generous, since a batch can take a second or two.
  const perRun = Math.max(120000, Math.ceil(opts.calls / opts.batch) * 3000);
  try {
    for (let seed = opts.seed; total.runs < opts.runs && Date.now() < end; seed++) {
      const logFile = path.join(tmp, `sentry-${seed}.log`);
      const args = ['/fuzz', String(seed), String(opts.calls), String(opts.batch)];
      if (opts.onlyBatch !== null) args.push(String(opts.onlyBatch));
      const r = await runGuest([...runsc, `--debug-log=${logFile}`, 'do', '--root', rootfs, ...args], {
        cwd: tmp, timeout: Math.min(perRun, Math.max(30000, end - Date.now() + 60000)),
      });
      const problems = [];
      const done = /^fuzz done: seed \d+ calls (\d+) batches (\d+) exited \d+ killed (\d+) stopped \d+ timeouts (\d+)/m.exec(r.stdout);
      if (r.timedOut) problems.push(`hung: no end after ${r.ms} ms`);
      else if (r.code !== 0) problems.push(`runsc ended with ${r.code ?? r.signal}`);
      if (!done && !r.timedOut) problems.push('no "fuzz done" summary');
      let sentryLog = '';
      try { sentryLog = fs.readFileSync(logFile, 'utf8'); } catch { /* none */ }
      for (const [where, text] of [['stderr', r.stderr], ['sentry log', sentryLog]]) {
        const bad = text.split('\n').filter((l) => SENTRY_TROUBLE.test(l));
        if (bad.length) problems.push(`${where}: ${bad.length} internal errors, first: ${bad.slice(0, 3).join(' | ').slice(0, 600)}`);
      }
      const hung = r.stdout.split('\n').filter((l) => l.startsWith('timeout:'));
      const after = treeDigest(rootfs);
      if (after.join('\n') !== before.join('\n')) problems.push('the scratch root changed on the host');
      if (fs.readFileSync(marker, 'utf8') !== 'host marker\n') problems.push('the host marker changed');
      const extra = fs.readdirSync(tmp).filter((n) => n !== 'rootfs' && n !== 'marker' && !n.startsWith('sentry-'));
      if (extra.length) problems.push(`new host files beside the root: ${extra.join(', ')}`);
      total.runs++;
      if (done) {
        total.calls += Number(done[1]);
        total.batches += Number(done[2]);
        total.killed += Number(done[3]);
        total.timeouts += Number(done[4]);
      }
      if (!opts.quiet || problems.length) {
        log(`${problems.length ? 'FAIL' : 'ok  '} seed ${seed}: ${done ? `${done[1]} calls, ${done[3]} children killed, ${done[4]} child timeouts` : 'no summary'} (${(r.ms / 1000).toFixed(1)} s)`);
        if (hung.length && !opts.quiet) log(`     blocked children (killed, not a failure): ${hung.length}, e.g. ${hung[0]}`);
      }
      if (problems.length) {
        for (const p of problems) log(`     ${p}`);
        log(`     replay: node bench/fuzz.mjs --seed ${seed} --runs 1 --calls ${opts.calls} --batch ${opts.batch}`);
        fs.copyFileSync(logFile, path.join(os.tmpdir(), `tsv-fuzz-seed-${seed}.log`));
        fs.writeFileSync(path.join(os.tmpdir(), `tsv-fuzz-seed-${seed}.out`), `${r.stdout}\n--- stderr\n${r.stderr}`);
        log(`     kept: ${path.join(os.tmpdir(), `tsv-fuzz-seed-${seed}.{log,out}`)}`);
        total.failures.push({ seed, problems });
      }
      fs.rmSync(logFile, { force: true });
    }
  } finally {
    if (!opts.keep) fs.rmSync(tmp, { recursive: true, force: true });
  }
  return total;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const opts = parseArgs(process.argv.slice(2));
  const t0 = Date.now();
  const total = await fuzz(opts);
  const secs = (Date.now() - t0) / 1000;
  console.log(`fuzz: ${total.runs} runs, ${total.calls} calls in ${total.batches} batches (${(total.calls / secs).toFixed(0)} calls/s), ` +
    `${total.killed} children killed, ${total.timeouts} child timeouts, ${total.failures.length} failed runs`);
  process.exitCode = total.failures.length ? 1 : 0;
}
