// A host file that shrinks while the Sentry reads it through its mapping:
// the copy faults (SIGBUS), the Sentry catches it and reads the file the
// pread way, so the guest sees end of file where the file now ends, and
// neither the guest nor the Sentry is killed.
//
//   npm run build && node --test test/memory/

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { RUNSC } from '../diff/harness.mjs';

const PROG = String.raw`
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
int main(int argc, char **argv) {
  setvbuf(stdout, NULL, _IONBF, 0);
  char *b = malloc(1 << 21);
  int fd = open(argv[1], O_RDONLY);
  /* Two reads: the second one maps the file in the Sentry. */
  for (int i = 0; i < 2; i++) printf("read %zd\n", pread(fd, b, 1 << 20, 0));
  char c;
  read(0, &c, 1); /* the test shrinks the file, then writes a byte */
  printf("past the end %zd\n", pread(fd, b, 1 << 20, 500000));
  printf("from 0 %zd\n", pread(fd, b, 1 << 20, 0));
  return 0;
}
`;

test('a host file shrinking under a mapped read ends the read at the new size', { timeout: 60000 }, async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shrink-'));
  try {
    fs.writeFileSync(path.join(dir, 'p.c'), PROG);
    const cc = spawnSync('gcc', ['-O1', '-o', path.join(dir, 'p'), path.join(dir, 'p.c')], { encoding: 'utf8' });
    assert.equal(cc.status, 0, cc.stderr);
    const file = path.join(dir, 'data');
    fs.writeFileSync(file, Buffer.alloc(2_000_000, 7));
    const child = spawn(RUNSC, ['do', path.join(dir, 'p'), file], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stderr.on('data', (d) => (err += d));
    const done = new Promise((resolve) => child.on('exit', (code, sig) => resolve({ code, sig })));
    await new Promise((resolve) => {
      child.stdout.on('data', (d) => {
        out += d;
        if (out.split('\n').filter((l) => l.startsWith('read ')).length === 2) resolve();
      });
    });
    fs.truncateSync(file, 600_000);
    child.stdin.end('x');
    const st = await done;
    assert.deepEqual(st, { code: 0, sig: null }, err);
    assert.equal(out, 'read 1048576\nread 1048576\npast the end 100000\nfrom 0 600000\n');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
