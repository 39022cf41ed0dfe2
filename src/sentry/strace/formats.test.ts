import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SYSNO } from '../../abi/linux/sysno.js';
import { alloc, args, cstr, fakeKernel, newProcess } from '../kernel/testutil.js';
import * as d from './decode.js';
import { formatResult, FORMATS } from './formats.js';
import { formatDuration, straceEnter, straceExit } from './strace.js';

function setup() {
  return newProcess(fakeKernel().kernel, 7, null);
}

/** line formats a whole call as the dispatcher would, without the duration. */
function line(nr: number, vals: (number | bigint)[], r: number, t = setup()): string {
  const enter = straceEnter(t, nr, args(...vals));
  return straceExit(t, nr, enter, r).replace(/ \([0-9.]+(µs|ms)\)$/, '');
}

test('openat: AT_FDCWD, quoted path, symbolic flags, octal mode', () => {
  const t = setup();
  const p = cstr(t, '/etc/passwd');
  assert.equal(line(SYSNO.openat, [-100, p, 0o2000000, 0], 3, t), '7 openat(AT_FDCWD, "/etc/passwd", O_RDONLY|O_CLOEXEC, 0) = 3');
  assert.equal(line(SYSNO.openat, [3, p, 0o1101, 0o644], -2, t),
    '7 openat(3, "/etc/passwd", O_WRONLY|O_CREAT|O_TRUNC, 0644) = -1 ENOENT (no such file or directory)');
});

test('write shows a quoted, escaped prefix of the buffer; read shows the data on exit', () => {
  const t = setup();
  const b = alloc(t, 8, new TextEncoder().encode('hi\n"x"\t\x01'));
  assert.equal(line(SYSNO.write, [1, b, 8], 8, t), '7 write(1, "hi\\n\\"x\\"\\t\\x01", 8) = 8');
  assert.equal(line(SYSNO.read, [0, b, 100], 3, t), '7 read(0, "hi\\n", 100) = 3');
  // On failure the output buffer is only a pointer.
  assert.equal(line(SYSNO.read, [0, b, 100], -11, t), `7 read(0, 0x${b.toString(16)}, 100) = -1 EAGAIN (try again)`);
});

test('long strings are cut at 64 bytes with "..."', () => {
  const t = setup();
  const long = 'a'.repeat(100);
  const p = cstr(t, long);
  assert.equal(line(SYSNO.chdir, [p], 0, t), `7 chdir("${'a'.repeat(64)}"...) = 0`);
  const w = alloc(t, 100, new TextEncoder().encode(long));
  assert.equal(line(SYSNO.write, [1, w, 100], 100, t), `7 write(1, "${'a'.repeat(64)}"..., 100) = 100`);
});

test('unreadable pointers show as hex, never throw', () => {
  assert.equal(line(SYSNO.openat, [-100, 0x1234, 0, 0], -14), '7 openat(AT_FDCWD, 0x1234, O_RDONLY, 0) = -1 EFAULT (bad address)');
  assert.equal(line(SYSNO.execve, [0, 0x10, 0], -14), '7 execve(NULL, 0x10, NULL) = -1 EFAULT (bad address)');
});

test('mmap: prot and flags symbolic, address result in hex', () => {
  assert.equal(line(SYSNO.mmap, [0, 4096, 3, 0x22, -1, 0], 0x7f0000001000),
    '7 mmap(0x0, 4096, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0x0) = 0x7f0000001000');
  assert.equal(line(SYSNO.mprotect, [0x1000, 4096, 0], 0), '7 mprotect(0x1000, 4096, PROT_NONE) = 0');
});

test('clone flags with exit signal, signals, sigsets and unknown syscalls', () => {
  assert.equal(line(SYSNO.clone, [0x1200011, 0, 0, 0, 0], 8), '7 clone(CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD, 0x0, 0x0, 0x0, 0x0) = 8');
  assert.equal(line(SYSNO.kill, [8, 15], 0), '7 kill(8, SIGTERM) = 0');
  const t = setup();
  const set = alloc(t, 8, new Uint8Array([0x02, 0x40, 0, 0, 0, 0, 0, 0]));
  assert.equal(line(SYSNO.rt_sigprocmask, [0, set, 0, 8], 0, t), '7 rt_sigprocmask(SIG_BLOCK, [SIGINT SIGTERM], NULL, 8) = 0');
  assert.equal(line(1000, [1, 2], -38), '7 syscall_1000(0x1, 0x2, 0x0, 0x0, 0x0, 0x0) = -1 ENOSYS (invalid system call number)');
});

test('pipe2 shows the fds on exit; execve shows argv and counts envp', () => {
  const t = setup();
  const fds = alloc(t, 8, new Uint8Array([3, 0, 0, 0, 4, 0, 0, 0]));
  assert.equal(line(SYSNO.pipe2, [fds, 0o2000000], 0, t), '7 pipe2([3, 4], O_RDONLY|O_CLOEXEC) = 0');
  const a0 = cstr(t, '/bin/sh');
  const a1 = cstr(t, '-c');
  const argv = alloc(t, 24);
  t.mm.writeU64(argv, a0);
  t.mm.writeU64(argv + 8, a1);
  const envp = alloc(t, 16);
  t.mm.writeU64(envp, a1);
  const path = cstr(t, '/bin/sh');
  assert.equal(line(SYSNO.execve, [path, argv, envp], 0, t),
    `7 execve("/bin/sh", ["/bin/sh", "-c"], 0x${envp.toString(16)} /* 1 vars */) = 0`);
});

test('flag helpers: high bits, leftovers, zero names', () => {
  assert.equal(d.flags(0x80000004, d.SA_FLAGS), 'SA_SIGINFO|SA_RESETHAND');
  assert.equal(d.flags(0x100 | 0x1, d.UNLINK_FLAGS), '0x101');
  assert.equal(d.flags(0, d.ACCESS, 'F_OK'), 'F_OK');
  assert.equal(d.openFlags(0o4010002), 'O_RDWR|O_SYNC');
  assert.equal(d.futexOp(0x80 | 9), 'FUTEX_WAIT_BITSET|FUTEX_PRIVATE_FLAG');
  assert.equal(d.signalName(34), 'SIGRTMIN+2');
});

test('every table entry names a real syscall, and results format', () => {
  assert.ok(FORMATS[SYSNO.read]);
  assert.equal(formatResult(SYSNO.brk, 0x5000), '0x5000');
  assert.equal(formatResult(SYSNO.getpid, 70000), '70000');
  assert.equal(formatDuration(1500n), '1µs');
  assert.equal(formatDuration(12_345_678n), '12.346ms');
});
