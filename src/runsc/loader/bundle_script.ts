// Compiling a CommonJS bundle (tools/bundle.mjs) with a V8 code cache.
// Node 20 keeps no code cache for user code, and compiling runsc's bundle
// (and the functions it runs) was ~45 ms of each process's start-up. The
// cache is made at build time with every function compiled (no lazy
// parsing), so that the sandbox process, which cannot write files, gets the
// same benefit as the CLI.

import { isAscii } from 'node:buffer';
import { createHash } from 'node:crypto';
import * as vm from 'node:vm';
import * as v8 from 'node:v8';

/** BundleMain is the bundle's code as a function of CommonJS's module
 *  arguments, plus the URL that stands for the bundle's import.meta.url. */
export type BundleMain = (exports: object, require: NodeJS.Require, module: { exports: object },
  filename: string, dirname: string, url: string) => void;

/** URL_PARAM is the name esbuild's define gives import.meta.url in the bundle. */
export const URL_PARAM = '__tsvisor_url';

const HASH_LEN = 32;

/** SENTRY_NODE_ARGS are the node options of a sandbox process: a larger
 *  young generation, for fewer scavenges under guest load. The CLI goes
 *  without: any V8 flag makes V8 refuse Node's own code cache, and each
 *  built-in module loaded after start-up is then compiled (~11 ms in all). */
export const SENTRY_NODE_ARGS: readonly string[] = ['--max-semi-space-size=32'];

/** cachePath names the code cache of the bundle base.cjs for a process
 *  started with execArgv: V8 takes a cache only under the flags it was made with. */
export function cachePath(base: string, execArgv: readonly string[]): string {
  const key = execArgv.map((a) => a.replace(/^-+/, '').replace(/[^A-Za-z0-9=.-]/g, '_')).join('.');
  return key ? `${base}.${key}.cache` : `${base}.cache`;
}

/** wrap makes the bundle's source a function expression, as Node's CommonJS loader does. */
function wrap(src: Buffer): string {
  // esbuild escapes most non-ASCII text: latin1 decodes ASCII exactly, into a
  // one-byte string, twice as fast as utf8.
  const text = isAscii(src) ? src.toString('latin1') : src.toString('utf8');
  return `(function (exports, require, module, __filename, __dirname, ${URL_PARAM}) {${text}\n})`;
}

/** sourceHash identifies a bundle. V8 itself checks only the source's length,
 *  and bytecode run against another source would be wrong code. */
function sourceHash(src: Buffer): Buffer {
  return createHash('sha256').update(src).digest();
}

/** compileBundle compiles src (named filename in stack traces) with the code
 *  cache when it is src's and V8 accepts it (same node binary and V8 flags);
 *  cached tells whether it was used. Otherwise V8 compiles src anew. */
export function compileBundle(src: Buffer, filename: string, cache?: Buffer): { main: BundleMain; cached: boolean } {
  let cachedData: Buffer | undefined;
  if (cache && cache.length > HASH_LEN && cache.subarray(0, HASH_LEN).equals(sourceHash(src))) {
    cachedData = cache.subarray(HASH_LEN);
  }
  const script = new vm.Script(wrap(src), { filename, cachedData });
  return { main: script.runInThisContext() as BundleMain, cached: cachedData !== undefined && script.cachedDataRejected === false };
}

/** makeCodeCache compiles src with every function compiled eagerly and
 *  returns the code cache for compileBundle. V8 accepts it only under the V8
 *  flags it was made with: run this with the node options the bundle runs with. */
export function makeCodeCache(src: Buffer, filename: string): Buffer {
  v8.setFlagsFromString('--no-lazy');
  let script: vm.Script;
  try {
    script = new vm.Script(wrap(src), { filename });
  } finally {
    // Back to the default, which is also what the flag hash in the cache records.
    v8.setFlagsFromString('--lazy');
  }
  return Buffer.concat([sourceHash(src), script.createCachedData()]);
}
