// The host's /proc/net/{tcp,tcp6,udp,udp6} as --network=host shows them to
// the guest: only the rows of the sandbox's own host sockets, as gVisor's
// hostinet lists only the sockets of its own socket table. A row is the
// sandbox's when its inode column is the host inode of a socket the Sentry
// holds for the guest; a TCP row with inode 0 (a connection not yet accepted,
// SYN_RECV or TIME_WAIT) is when it sits on the port of such a listener. The
// kept rows get the guest's slot numbers, uid and inode (the socket:[N] of
// /proc/PID/fd), and no kernel pointer.
//
// Pure text processing (unit-tested in procnet.test.ts); inventory.ts reads
// the files and knows the sockets.

export const TCP_SYN_RECV = 3;
export const TCP_TIME_WAIT = 6;
export const TCP_LISTEN = 10;

/** Token positions in a row (net/ipv4/tcp_ipv4.c get_tcp4_sock, udp.c udp4_format_sock
 *  and their IPv6 twins): slot, local, remote, state, tx:rx, tr:when, retrnsmt, uid,
 *  timeout, inode, ref, pointer. */
const COL_SL = 0;
const COL_UID = 7;
const COL_INODE = 9;
const COL_POINTER = 11;

/** HostInetRow is one socket row of a host file. */
export interface HostInetRow {
  /** The host's line, without its newline. */
  line: string;
  local: Uint8Array;
  lport: number;
  remote: Uint8Array;
  rport: number;
  state: number;
  txq: number;
  rxq: number;
  /** Timer kind (tr) and its expiry in clock ticks (USER_HZ, 100 a second). */
  timer: number;
  when: number;
  retrans: number;
  uid: number;
  /** The timeout column: unanswered zero-window or keepalive probes. */
  probes: number;
  inode: number;
}

/** HostInetTable is a parsed file: its header line and rows. */
export interface HostInetTable {
  header: string;
  rows: HostInetRow[];
}

/** addrOf decodes "0100007F" (IPv4) or four such words (IPv6): each word is a
 *  u32 of the address bytes printed in the host's (little-endian) order. */
export function addrOf(hex: string): Uint8Array {
  const out = new Uint8Array(hex.length / 2);
  for (let w = 0; w < hex.length / 8; w++) {
    const v = parseInt(hex.slice(w * 8, w * 8 + 8), 16);
    for (let i = 0; i < 4; i++) out[w * 4 + i] = (v >>> (8 * i)) & 0xff;
  }
  return out;
}

function endpoint(tok: string): [Uint8Array, number] | null {
  const m = /^([0-9A-Fa-f]{8}|[0-9A-Fa-f]{32}):([0-9A-Fa-f]{4})$/.exec(tok);
  return m ? [addrOf(m[1]), parseInt(m[2], 16)] : null;
}

function pair(tok: string): [number, number] | null {
  const m = /^([0-9A-Fa-f]+):([0-9A-Fa-f]+)$/.exec(tok);
  return m ? [parseInt(m[1], 16), parseInt(m[2], 16)] : null;
}

/** parseRow decodes one row, or returns null for a line that is not one. */
export function parseRow(line: string): HostInetRow | null {
  const f = line.trim().split(/\s+/);
  if (f.length < 10 || !/^\d+:$/.test(f[COL_SL])) return null;
  const l = endpoint(f[1]);
  const r = endpoint(f[2]);
  const q = pair(f[4]);
  const t = pair(f[5]);
  if (!l || !r || !q || !t) return null;
  return {
    line, local: l[0], lport: l[1], remote: r[0], rport: r[1], state: parseInt(f[3], 16), txq: q[0], rxq: q[1],
    timer: t[0], when: t[1], retrans: parseInt(f[6], 16), uid: Number(f[COL_UID]), probes: Number(f[8]),
    inode: Number(f[COL_INODE]),
  };
}

/** parseTable splits a file into its header and rows. */
export function parseTable(text: string): HostInetTable {
  const lines = text.split('\n');
  const rows: HostInetRow[] = [];
  for (const l of lines.slice(1)) {
    const r = parseRow(l);
    if (r) rows.push(r);
  }
  return { header: lines[0] ?? '', rows };
}

function isAny(a: Uint8Array): boolean {
  return a.every((x) => x === 0);
}

function sameAddr(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** Owned pairs a host row with the guest socket it belongs to. */
export interface Owned<T> {
  row: HostInetRow;
  owner: T;
  /** inode: the guest inode shown (0 for a row without a socket file of its own). */
  inode: number;
}

/** selectOwn keeps the rows of a table that belong to the sandbox. owners maps
 *  a host socket inode to its guest socket; inoOf gives that socket's guest inode. */
export function selectOwn<T>(rows: HostInetRow[], owners: Map<number, T>, inoOf: (o: T) => number): Owned<T>[] {
  const out: Owned<T>[] = [];
  const listeners: Owned<T>[] = [];
  for (const row of rows) {
    const o = row.inode !== 0 ? owners.get(row.inode) : undefined;
    if (o === undefined) continue;
    const e = { row, owner: o, inode: inoOf(o) };
    if (row.state === TCP_LISTEN) listeners.push(e);
  }
  for (const row of rows) {
    if (row.inode !== 0) {
      const o = owners.get(row.inode);
      if (o !== undefined) out.push({ row, owner: o, inode: inoOf(o) });
      continue;
    }
    // Without a file: a connection to one of our listeners (the listener's
    // uid, as Linux's child sockets inherit it), or some other host socket.
    if (row.state === TCP_LISTEN) continue;
    const l = listeners.find((x) => x.row.lport === row.lport && (isAny(x.row.local) || sameAddr(x.row.local, row.local)));
    if (l) out.push({ row, owner: l.owner, inode: 0 });
  }
  return out;
}

/** rewriteRow replaces a row's slot, uid and inode columns and zeroes its
 *  kernel pointer, keeping the columns' widths and the line's padding. */
export function rewriteRow(line: string, sl: number, uid: number, inode: number): string {
  const toks = [...line.matchAll(/\S+/g)];
  const repl = new Map<number, string>([[COL_SL, `${sl}:`], [COL_UID, String(uid)], [COL_INODE, String(inode)]]);
  if (toks.length > COL_POINTER && /^[0-9a-f]{16}$/i.test(toks[COL_POINTER][0])) repl.set(COL_POINTER, '0'.repeat(16));
  let out = '';
  let at = 0;
  toks.forEach((m, i) => {
    const start = m.index ?? 0;
    const end = start + m[0].length;
    const v = repl.get(i);
    if (v === undefined) return;
    // Slot and uid are right-aligned in the space after the previous token's
    // separator (%4d, %5u); the inode (%lu) and the pointer are not padded.
    const padded = i === COL_SL || i === COL_UID;
    const from = !padded ? start : i === 0 ? 0 : (toks[i - 1].index ?? 0) + toks[i - 1][0].length + 1;
    out += line.slice(at, from) + (padded ? v.padStart(end - from) : v);
    at = end;
  });
  out += line.slice(at);
  // tcp4 rows are padded to a fixed width; keep it.
  const trimmed = out.trimEnd();
  return line.length > line.trimEnd().length ? trimmed.padEnd(Math.max(line.length, trimmed.length)) : out;
}

/** formatTable prints the header and the kept rows with the guest's values. */
export function formatTable<T>(header: string, kept: Owned<T>[], uidOf: (o: T) => number): string {
  let out = header + '\n';
  kept.forEach((e, i) => {
    out += rewriteRow(e.row.line, i, uidOf(e.owner), e.inode) + '\n';
  });
  return out;
}
