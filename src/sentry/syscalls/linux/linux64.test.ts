// Table tests: the table is data, and these keep it honest.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SYSNO } from '../../../abi/linux/sysno.js';
import { buildTable, SYSCALL_TABLE } from './linux64.js';
import { supported } from '../syscalls.js';

function camel(name: string): string {
  return name.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

test('every handler is named after its syscall', () => {
  for (const [nr, e] of SYSCALL_TABLE.entries()) {
    if (!e?.handler) continue;
    assert.equal(e.handler.name, camel(e.name), `syscall ${nr}`);
  }
});

test('every entry sits at its own number', () => {
  for (const [nr, e] of SYSCALL_TABLE.entries()) {
    if (!e) continue;
    assert.equal((SYSNO as Record<string, number>)[e.name], nr, `${e.name}`);
  }
});

test('every Linux syscall number has an entry', () => {
  for (const [name, nr] of Object.entries(SYSNO)) assert.ok(SYSCALL_TABLE[nr], name);
});

test('a number claimed by two families is an error', () => {
  function read() {
    return 0;
  }
  assert.throws(() => buildTable({ a: { 0: supported('read', read) }, b: { 0: supported('read', read) } }), /claimed by both/);
});
