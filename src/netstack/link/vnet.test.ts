import { test } from 'node:test';
import assert from 'node:assert/strict';
import { closeSync } from 'node:fs';
import { ipv4, ipv6 } from '../addr.js';
import type { Address } from '../addr.js';
import { checksum, finish, pseudoHeaderChecksum } from '../header/checksum.js';
import { tcpChecksumOK } from '../header/tcp.js';
import { udpChecksumOK } from '../header/udp.js';
import { native } from '../../platform/ptrace/native.js';
import { FdFrameLink } from './fd.js';
import {
  VNET_F_NEEDS_CSUM, VNET_GSO_TCPV4, VNET_GSO_UDP_L4, VNET_HDR_LEN, completeChecksum, decodeVnetHdr, newVnetStats, receiveVnet, splitUdpGso,
} from './vnet.js';

const SRC4 = ipv4('10.1.0.2');
const DST4 = ipv4('10.1.0.1');
const SRC6 = ipv6('fd00::2');
const DST6 = ipv6('fd00::1');

function addrBytes(a: Address): number[] {
  return [...a].map((c) => c.charCodeAt(0));
}

/** frame builds Ethernet + IP + transport header + payload, with the transport
 *  checksum field holding the pseudo-header sum only, as CHECKSUM_PARTIAL leaves it. */
function partialFrame(v6: boolean, proto: 6 | 17, payload: Uint8Array): { frame: Uint8Array; l4: number; csumOff: number } {
  const thl = proto === 6 ? 20 : 8;
  const iphl = v6 ? 40 : 20;
  const l4len = thl + payload.length;
  const f = new Uint8Array(14 + iphl + l4len);
  const dv = new DataView(f.buffer);
  dv.setUint16(12, v6 ? 0x86dd : 0x0800);
  const ip = 14;
  if (v6) {
    f[ip] = 0x60;
    dv.setUint16(ip + 4, l4len);
    f[ip + 6] = proto;
    f[ip + 7] = 64;
    f.set(addrBytes(SRC6), ip + 8);
    f.set(addrBytes(DST6), ip + 24);
  } else {
    f[ip] = 0x45;
    dv.setUint16(ip + 2, iphl + l4len);
    dv.setUint16(ip + 4, 0x1234);
    f[ip + 8] = 64;
    f[ip + 9] = proto;
    f.set(addrBytes(SRC4), ip + 12);
    f.set(addrBytes(DST4), ip + 16);
    dv.setUint16(ip + 10, finish(checksum(f, 0, ip, ip + 20)));
  }
  const l4 = ip + iphl;
  dv.setUint16(l4, 40000);
  dv.setUint16(l4 + 2, 80);
  if (proto === 6) {
    dv.setUint32(l4 + 4, 1000);
    f[l4 + 12] = 5 << 4;
    f[l4 + 13] = 0x18;
    dv.setUint16(l4 + 14, 65535);
  } else {
    dv.setUint16(l4 + 4, l4len);
  }
  f.set(payload, l4 + thl);
  const csumOff = proto === 6 ? 16 : 6;
  const [s, d] = v6 ? [SRC6, DST6] : [SRC4, DST4];
  dv.setUint16(l4 + csumOff, pseudoHeaderChecksum(proto, s, d, l4len));
  return { frame: f, l4, csumOff };
}

function payload(n: number): Uint8Array {
  return Uint8Array.from({ length: n }, (_, i) => (i * 7 + 3) & 0xff);
}

function vnetHdr(flags: number, gsoType: number, gsoSize: number, csumStart: number, csumOffset: number): Uint8Array {
  const b = new Uint8Array(VNET_HDR_LEN);
  const dv = new DataView(b.buffer);
  b[0] = flags;
  b[1] = gsoType;
  dv.setUint16(4, gsoSize, true);
  dv.setUint16(6, csumStart, true);
  dv.setUint16(8, csumOffset, true);
  return b;
}

test('completeChecksum finishes partial TCP checksums (IPv4, IPv6, odd lengths)', () => {
  for (const v6 of [false, true]) {
    for (const n of [0, 1, 1447, 60000]) {
      const { frame, l4, csumOff } = partialFrame(v6, 6, payload(n));
      const seg = frame.subarray(l4);
      assert.equal(tcpChecksumOK(seg, v6 ? SRC6 : SRC4, v6 ? DST6 : DST4), false, 'a partial checksum must not verify');
      assert.equal(completeChecksum(frame, l4, csumOff), true);
      assert.equal(tcpChecksumOK(seg, v6 ? SRC6 : SRC4, v6 ? DST6 : DST4), true, `v6=${v6} n=${n}`);
    }
  }
});

test('completeChecksum finishes UDP checksums and refuses offsets outside the frame', () => {
  const { frame, l4, csumOff } = partialFrame(false, 17, payload(333));
  assert.equal(completeChecksum(frame, l4, csumOff), true);
  assert.equal(udpChecksumOK(frame.subarray(l4), SRC4, DST4, false), true);
  assert.equal(completeChecksum(frame, frame.length - 1, 6), false);
  assert.equal(completeChecksum(frame, frame.length + 10, 0), false);
});

test('receiveVnet: a TCP GSO super-packet goes up whole with its checksum finished', () => {
  const { frame, l4, csumOff } = partialFrame(false, 6, payload(20000));
  const stats = newVnetStats();
  const out = receiveVnet(decodeVnetHdr(vnetHdr(VNET_F_NEEDS_CSUM, VNET_GSO_TCPV4, 1448, l4, csumOff)), frame, stats);
  assert.equal(out.length, 1);
  assert.equal(out[0].length, frame.length);
  assert.equal(tcpChecksumOK(out[0].subarray(l4), SRC4, DST4), true);
  assert.deepEqual(stats, { csumCompleted: 1, gsoFrames: 1, udpSegments: 0, malformed: 0 });
});

test('receiveVnet: a frame without offload is passed through untouched', () => {
  const { frame, l4, csumOff } = partialFrame(false, 6, payload(10));
  completeChecksum(frame, l4, csumOff);
  const copy = frame.slice();
  const out = receiveVnet(decodeVnetHdr(new Uint8Array(VNET_HDR_LEN)), frame, newVnetStats());
  assert.deepEqual(out, [copy]);
});

test('splitUdpGso cuts a UDP_L4 super-packet into valid datagrams (IPv4 and IPv6)', () => {
  for (const v6 of [false, true]) {
    const data = payload(3000);
    const { frame, l4 } = partialFrame(v6, 17, data);
    const stats = newVnetStats();
    const segs = receiveVnet(decodeVnetHdr(vnetHdr(VNET_F_NEEDS_CSUM, VNET_GSO_UDP_L4, 1200, l4, 6)), frame, stats);
    assert.equal(segs.length, 3);
    assert.equal(stats.udpSegments, 3);
    let got: number[] = [];
    segs.forEach((s, i) => {
      const dv = new DataView(s.buffer, s.byteOffset);
      const n = i < 2 ? 1200 : 600;
      assert.equal(s.length, l4 + 8 + n);
      assert.equal(dv.getUint16(l4 + 4), 8 + n, 'UDP length');
      if (v6) {
        assert.equal(dv.getUint16(14 + 4), 8 + n, 'IPv6 payload length');
      } else {
        assert.equal(dv.getUint16(14 + 2), 20 + 8 + n, 'IPv4 total length');
        assert.equal(dv.getUint16(14 + 4), (0x1234 + i) & 0xffff, 'IPv4 id');
        assert.equal(checksum(s, 0, 14, 34), 0xffff, 'IPv4 header checksum');
      }
      assert.equal(udpChecksumOK(s.subarray(l4), v6 ? SRC6 : SRC4, v6 ? DST6 : DST4, v6), true);
      got = got.concat([...s.subarray(l4 + 8)]);
    });
    assert.deepEqual(Uint8Array.from(got), data);
  }
});

test('splitUdpGso refuses what is not IP + UDP', () => {
  const { frame, l4 } = partialFrame(false, 6, payload(100));
  assert.equal(splitUdpGso(frame, l4, 50), null);
  const stats = newVnetStats();
  assert.deepEqual(receiveVnet(decodeVnetHdr(vnetHdr(0, VNET_GSO_UDP_L4, 50, l4, 6)), frame, stats), []);
  assert.equal(stats.malformed, 1);
});

test('FdFrameLink with vnetHdr strips and adds the header on a datagram socket', async () => {
  const AF_UNIX = 1;
  const SOCK_DGRAM = 2;
  const pair = new Int32Array(2);
  assert.equal(native.socketpair(AF_UNIX, SOCK_DGRAM, pair), 0);
  const link = new FdFrameLink(pair[0], 1500, null, { vnetHdr: true });
  const { frame, l4, csumOff } = partialFrame(false, 6, payload(5000));
  const got = new Promise<Uint8Array>((resolve) => link.attach(resolve));
  native.netSendmsg(pair[1], Buffer.concat([vnetHdr(VNET_F_NEEDS_CSUM, VNET_GSO_TCPV4, 1448, l4, csumOff), frame]), null, null, 0);
  const f = await got;
  assert.equal(f.length, frame.length);
  assert.equal(tcpChecksumOK(f.subarray(l4), SRC4, DST4), true);
  link.attach(null);
  link.writeFrame(Uint8Array.of(1, 2, 3));
  const buf = new Uint8Array(64);
  const n = native.netRecvmsg(pair[1], buf, null, null, 0, new Int32Array(3));
  assert.deepEqual([...buf.subarray(0, n)], [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3]);
  // The pool read still pending (a blocked read is not woken by close): end it, then close.
  native.netSendmsg(pair[1], new Uint8Array(VNET_HDR_LEN + 1), null, null, 0);
  await new Promise((r) => setTimeout(r, 20));
  link.close();
  closeSync(pair[1]);
});
