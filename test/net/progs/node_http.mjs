// Node's http server and fetch client in one process, on loopback: 200
// concurrent POSTs, a dual-stack listener reached over IPv4, IPv6 and
// "localhost", and net.connect with autoSelectFamily (happy eyeballs).
// Run by test/diff/cases.mjs (prog/node-http-fetch).
import http from 'node:http';
import net from 'node:net';

const srv = http.createServer((req, res) => {
  let b = '';
  req.on('data', (d) => (b += d));
  req.on('end', () => res.end(`${req.method} ${req.url} ${b} ${req.socket.remoteAddress}`));
});
srv.listen(0, async () => {
  const { port, address } = srv.address();
  console.log('listening on', address);
  const rs = await Promise.all(Array.from({ length: 200 }, (_, i) =>
    fetch(`http://127.0.0.1:${port}/x${i}`, { method: 'POST', body: `b${i}` }).then((r) => r.text())));
  console.log(rs.filter((r, i) => r === `POST /x${i} b${i} ::ffff:127.0.0.1`).length, 'of 200 POSTs answered');
  for (const h of ['127.0.0.1', '[::1]', 'localhost']) {
    const r = await fetch(`http://${h}:${port}/get`);
    console.log(h, r.status, await r.text());
  }
  const c = net.connect({ port, host: 'localhost', autoSelectFamily: true }, () => {
    console.log('autoSelectFamily connected over', c.remoteFamily);
    c.end();
    srv.close(() => console.log('closed'));
    srv.closeAllConnections();
  });
});
