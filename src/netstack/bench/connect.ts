// TCP connect+accept+close rate over the loopback NIC, in-process: the
// netstack's own cost per connection, without a sandbox around it.
// Usage: node dist/netstack/bench/connect.js [connections]

import { ipv4 } from '../addr.js';
import { realClock } from '../clock.js';
import { loopbackStack, tryConnect } from '../testing/harness.js';

function main(): void {
  const n = Number(process.argv[2] ?? 20000);
  const stack = loopbackStack(realClock);
  const listener = stack.newTCPEndpoint(4);
  listener.bind({ addr: '', port: 5001 });
  listener.listen(128);
  const to = { addr: ipv4('127.0.0.1'), port: 5001 };
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    const c = stack.newTCPEndpoint(4);
    tryConnect(c, to);
    const s = listener.accept().ep;
    c.close();
    s.close();
  }
  const dt = performance.now() - t0;
  console.log(`${n} connect+accept+close in ${dt.toFixed(0)} ms = ${((dt * 1000) / n).toFixed(1)} µs each`);
  process.exit(0);
}

main();
