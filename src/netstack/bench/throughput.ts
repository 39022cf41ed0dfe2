// TCP throughput over the loopback NIC, in-process: one sender endpoint
// writes, one receiver reads, both driven by a tight loop (no event loop).
// Usage: node dist/netstack/bench/throughput.js [megabytes] [writeKiB] [v4|v6]

import { ipv4, ipv6 } from '../addr.js';
import { realClock } from '../clock.js';
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
        // A fresh copy per write: the endpoint keeps a reference to what it is given.
        n = client.write(buf.slice(0, Math.min(buf.length, total - sent)));
      } catch (e) {
        if (e instanceof ErrWouldBlock) break;
        throw e;
      }
      writes++;
      sent += n;
    }
    for (;;) {
      let d: Uint8Array[];
      try {
        // Views, as a socket layer copying into guest memory with process_vm_writev would take them.
        d = server.readViews(READ_MAX);
      } catch (e) {
        if (e instanceof ErrWouldBlock) break;
        throw e;
      }
      reads++;
      for (const v of d) {
        sink ^= v[v.length - 1];
        received += v.length;
      }
    }
  }
  const dt = (performance.now() - t0) / 1000;
  void sink;
  const st = stack.stats.tcp;
  console.log(
    `IPv${family} loopback: ${mb} MiB in ${dt.toFixed(3)} s = ${(mb / dt).toFixed(0)} MiB/s ` +
      `(${writeKiB} KiB writes: ${writes} writes, ${reads} reads, ${st.segmentsSent} segments, mss ${client.sndMss})`,
  );
}

main();
