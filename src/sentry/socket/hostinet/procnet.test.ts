import assert from 'node:assert/strict';
import { test } from 'node:test';
import { addrOf, formatTable, parseRow, parseTable, rewriteRow, selectOwn } from './procnet.js';

// Rows as a Linux 6.x host prints them (tcp4 rows padded to 148 columns).
const HEAD = '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode'.padEnd(148);
const L_OURS = '   0: 0100007F:1F90 00000000:0000 0A 00000000:00000002 00:00000000 00000000  1000        0 4242 1 0000000062e21190 100 0 0 10 0'.padEnd(148);
const L_HOST = '   1: 00000000:07E8 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1667 1 00000000c6872180 100 0 0 10 0'.padEnd(148);
const L_PENDING = '   2: 0100007F:1F90 0100007F:9DC0 01 00000000:00000000 00:00000000 00000000  1000        0 0 1 000000006b8936e4 20 0 0 10 -1'.padEnd(148);
const L_TW = '   3: 0100007F:1F90 0100007F:9DC2 06 00000000:00000000 03:0000129F 00000000     0        0 0 3 0000000029cea89f'.padEnd(148);
const L_HOST_TW = '   4: 0100007F:AE50 0100007F:440D 06 00000000:00000000 03:00000C0F 00000000     0        0 0 3 0000000029cea89f'.padEnd(148);
const L_CLIENT = '   5: 0100007F:9DC4 0100007F:0050 01 00000010:00000000 01:00000014 00000002  1000        0 4343 2 0000000011111111 21 4 30 10 -1'.padEnd(148);
const TCP = [HEAD, L_OURS, L_HOST, L_PENDING, L_TW, L_HOST_TW, L_CLIENT].join('\n') + '\n';

test('addrOf decodes /proc/net words (little-endian u32s of the address bytes)', () => {
  assert.deepEqual([...addrOf('0100007F')], [127, 0, 0, 1]);
  assert.deepEqual([...addrOf('00000000000000000000000001000000')], [...new Array(15).fill(0), 1]);
});

test('parseRow reads the columns', () => {
  const r = parseRow(L_CLIENT);
  assert.ok(r);
  assert.deepEqual([...r.local], [127, 0, 0, 1]);
  assert.equal(r.lport, 0x9dc4);
  assert.equal(r.rport, 80);
  assert.equal(r.state, 1);
  assert.equal(r.txq, 16);
  assert.equal(r.timer, 1);
  assert.equal(r.when, 20);
  assert.equal(r.retrans, 2);
  assert.equal(r.uid, 1000);
  assert.equal(r.inode, 4343);
  assert.equal(parseRow(HEAD), null);
  assert.equal(parseTable(TCP).rows.length, 6);
});

test('selectOwn keeps our sockets and the file-less connections on our listener ports only', () => {
  const { rows } = parseTable(TCP);
  const owners = new Map([[4242, { ino: 7 }], [4343, { ino: 9 }]]);
  const kept = selectOwn(rows, owners, (o) => o.ino);
  assert.deepEqual(kept.map((e) => [e.row.lport, e.row.state, e.inode]), [
    [0x1f90, 10, 7], [0x1f90, 1, 0], [0x1f90, 6, 0], [0x9dc4, 1, 9],
  ]);
  // The host's own listener and its TIME_WAIT stay out.
  assert.ok(!kept.some((e) => e.row.lport === 0x7e8 || e.row.lport === 0xae50));
  assert.deepEqual(selectOwn(rows, new Map(), () => 0), []);
});

test('a wildcard listener claims connections to any address; a specific one only its own', () => {
  const any = parseRow('   0: 00000000:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 11 1 0000000000000000 100 0 0 10 0');
  const lo = parseRow('   0: 0100007F:1F91 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 12 1 0000000000000000 100 0 0 10 0');
  const c1 = parseRow('   1: 0200000A:1F90 0100007F:9DC0 01 00000000:00000000 00:00000000 00000000     0        0 0 1 0000000000000000 20 0 0 10 -1');
  const c2 = parseRow('   2: 0200000A:1F91 0100007F:9DC0 01 00000000:00000000 00:00000000 00000000     0        0 0 1 0000000000000000 20 0 0 10 -1');
  assert.ok(any && lo && c1 && c2);
  const kept = selectOwn([any, lo, c1, c2], new Map([[11, 1], [12, 2]]), (o) => o);
  assert.deepEqual(kept.map((e) => e.row), [any, lo, c1]);
});

test('rewriteRow puts the guest slot, uid and inode in place and hides the kernel pointer', () => {
  const out = rewriteRow(L_OURS, 3, 0, 70001);
  assert.equal(out.length, L_OURS.length);
  assert.equal(out.trimEnd(),
    '   3: 0100007F:1F90 00000000:0000 0A 00000000:00000002 00:00000000 00000000     0        0 70001 1 0000000000000000 100 0 0 10 0');
  const tw = rewriteRow(L_TW, 12, 5, 0);
  assert.match(tw, /^ {2}12: 0100007F:1F90 .* 00000000     5        0 0 3 0{16} *$/);
  // Unpadded rows (tcp6, udp6) stay unpadded; wider values widen the field.
  const v6 = '    0: 00000000000000000000000001000000:E406 00000000000000000000000000000000:0000 07 00000000:00000000 00:00000000 00000000  1000        0 812 2 00000000abcdef01 0';
  assert.equal(rewriteRow(v6, 123456, 4294967294, 70003),
    '123456: 00000000000000000000000001000000:E406 00000000000000000000000000000000:0000 07 00000000:00000000 00:00000000 00000000 4294967294        0 70003 2 0000000000000000 0');
});

test('formatTable numbers the kept rows from 0', () => {
  const { header, rows } = parseTable(TCP);
  const kept = selectOwn(rows, new Map([[4343, { ino: 9, uid: 0 }]]), (o) => o.ino);
  const out = formatTable(header, kept, (o) => o.uid);
  const lines = out.split('\n');
  assert.equal(lines[0], HEAD);
  assert.match(lines[1], /^ {3}0: 0100007F:9DC4 0100007F:0050 01 .* {5}0 {8}0 9 2 0{16} 21 4 30 10 -1/);
  assert.equal(lines.length, 3);
});
