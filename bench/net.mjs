#!/usr/bin/env node
// Network benchmark: TCP throughput and connect+accept+close rate over
// 127.0.0.1 (bench/net.c), natively, under tsvisor (--network=none: the
// sandbox's netstack; --network=host: host sockets) and under gVisor with the
// ptrace platform.
//
//   node bench/net.mjs [--mib N] [--conns N] [--runs N] [--no-gvisor]
//
// Each figure is the best of --runs runs (the machine may be shared).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { REPO, BUILD } from '../test/diff/harness.mjs';

const args = process.argv.slice(2);
let mib = 500, conns = 2000, runs = 3, useGvisor = true;
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--mib') mib = Number(args[++i]);
  else if (args[i] === '--conns') conns = Number(args[++i]);
  else if (args[i] === '--runs') runs = Number(args[++i]);
  else if (args[i] === '--no-gvisor') useGvisor = false;
  else {
    console.error('usage: node bench/net.mjs [--mib N] [--conns N] [--runs N] [--no-gvisor]');
    process.exit(2);
  }
}

const GVISOR = '/usr/bin/runsc';
const BIN = path.join(BUILD, 'netbench');
const RUNSC = process.env.TSV_RUNSC_BIN ?? path.join(REPO, 'bin', 'runsc');

function build() {
  fs.mkdirSync(BUILD, { recursive: true });
  const src = path.join(REPO, 'bench', 'net.c');
  const r = spawnSync('gcc', ['-O2', '-o', BIN, src], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`building ${src} failed:\n${r.stderr}`);
}

const ENVS = [
  { key: 'native', title: 'native', prefix: [] },
  { key: 'tsvisor', title: 'tsvisor', prefix: [RUNSC, '--network=none', 'do'] },
  { key: 'tsvisor-host', title: 'tsvisor (host)', prefix: [RUNSC, '--network=host', 'do'] },
  { key: 'gvisor', title: 'gVisor (ptrace)', prefix: [GVISOR, '--platform=ptrace', '--network=none', 'do'] },
].filter((e) => e.key !== 'gvisor' || (useGvisor && fs.existsSync(GVISOR)));

/** once runs one measurement; returns the numbers of its output line, or an error string. */
function once(env, mode, n) {
  const argv = [...env.prefix, BIN, mode, String(n)];
  const r = spawnSync(argv[0], argv.slice(1), { encoding: 'utf8', timeout: 120000 });
  const line = r.stdout.split('\n').find((l) => l.startsWith(mode + ' '));
  if (r.status !== 0 || !line) return `exit ${r.status ?? r.signal}: ${(r.stderr || '').trim().split('\n').pop()}`;
  return line.split(' ').slice(1).map(Number);
}

function best(env, mode, n) {
  let top = null;
  for (let i = 0; i < runs; i++) {
    const v = once(env, mode, n);
    if (typeof v === 'string') return v;
    if (top === null || v[0] < top[0]) top = v;
  }
  return top;
}

build();
const rows = [];
for (const env of ENVS) {
  const t = best(env, 'tput', mib);
  const c = best(env, 'conn', conns);
  rows.push({
    env: env.title,
    tput: typeof t === 'string' ? t : `${((t[1] / (t[0] / 1e9)) / 1e6).toFixed(0)} MB/s`,
    conn: typeof c === 'string' ? c : `${(c[1] / (c[0] / 1e9)).toFixed(0)} /s (${(c[0] / c[1] / 1000).toFixed(0)} µs)`,
  });
}
const w = [18, 16, 24];
console.log(['', 'TCP throughput', 'connect+accept+close'].map((s, i) => s.padEnd(w[i])).join(' '));
for (const r of rows) console.log([r.env, r.tput, r.conn].map((s, i) => s.padEnd(w[i])).join(' '));
console.log(`(${mib} MiB in 64 KiB writes over 127.0.0.1; ${conns} connections; best of ${runs})`);
