// TCP throughput over the loopback NIC, in-process: one sender endpoint
// writes, one receiver reads, both driven by a tight loop (no event loop).
// Usage: node dist/netstack/bench/throughput.js [megabytes] [writeKiB] [v4|v6]

import { ipv4, ipv6 } from '../addr.js';
import { realClock } from '../clock.js';
import { blockPool } from '../buffer.js';
import { ErrWouldBlock } from '../errors.js';
import { loopbackStack, tryConnect } from '../testing/harness.js';

const READ_MAX = Number(process.env.READ_MAX ?? 1 << 20);

function main(): void {
  const mb = Number(process.argv[2] ?? 512);
  const writeKiB = Number(process.argv[3] ?? 64);
  const family = process.argv[4] === 'v6' ? 6 : 4;
  const total = mb * 1024 * 1024;
  const stack = loopbackStack(realClock);
  const listener = stack.newTCPEndpoint(family);
  listener.bind({ addr: '', port: 5001 });
  listener.listen(1);
  const client = stack.newTCPEndpoint(family);
  tryConnect(client, { addr: family === 4 ? ipv4('127.0.0.1') : ipv6('::1'), port: 5001 });
  const server = listener.accept().ep;
  // One source buffer reused for every write, as a socket layer copying from guest memory would produce.
  const buf = new Uint8Array(writeKiB * 1024).fill(0x61);
  let sent = 0;
  let received = 0;
  let writes = 0;
  let reads = 0;
  let sink = 0;
  const t0 = performance.now();
  while (received < total) {
    while (sent < total) {
      let n: number;
      try {
        // Copied into the send queue's (pooled) memory, as the socket layer does from guest memory.
        n = client.writeFrom(Math.min(buf.length, total - sent), (dst, off) => {
          dst.set(buf.subarray(off, off + dst.length));
          return dst.length;
        });
      } catch (e) {
        if (e instanceof ErrWouldBlock) break;
        throw e;
      }
      writes++;
      sent += n;
    }
    for (;;) {
      try {
        // Views handed over one by one, as the socket layer copies them into guest memory.
        received += server.readTo(READ_MAX, (v) => {
          sink ^= v[v.length - 1];
          return v.length;
        });
      } catch (e) {
        if (e instanceof ErrWouldBlock) break;
        throw e;
      }
      reads++;
    }
  }
  const dt = (performance.now() - t0) / 1000;
  void sink;
  const st = stack.stats.tcp;
  console.log(
    `IPv${family} loopback: ${mb} MiB in ${dt.toFixed(3)} s = ${(mb / dt).toFixed(0)} MiB/s ` +
      `(${writeKiB} KiB writes: ${writes} writes, ${reads} reads, ${st.segmentsSent} segments, mss ${client.sndMss}, ` +
      `${blockPool.allocated} pooled blocks)`,
  );
}

main();
