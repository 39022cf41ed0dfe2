// TCP_INFO: struct tcp_info as Linux fills it (include/uapi/linux/tcp.h).

import type { TCPEndpoint } from './endpoint.js';
import { seqDiff } from './seqnum.js';

export const TCPI_OPT_TIMESTAMPS = 1;
export const TCPI_OPT_SACK = 2;
export const TCPI_OPT_WSCALE = 4;

export const TCP_CA_OPEN = 0;
export const TCP_CA_DISORDER = 1;
export const TCP_CA_RECOVERY = 3;
export const TCP_CA_LOSS = 4;

/** TcpInfo holds the fields we can fill; times are as Linux reports them (µs for RTT/RTO, ms for last_*). */
export interface TcpInfo {
  state: number;
  caState: number;
  retransmits: number;
  probes: number;
  backoff: number;
  options: number;
  sndWscale: number;
  rcvWscale: number;
  rto: number;
  ato: number;
  sndMss: number;
  rcvMss: number;
  unacked: number;
  sacked: number;
  lost: number;
  retrans: number;
  lastDataSent: number;
  lastDataRecv: number;
  lastAckRecv: number;
  pmtu: number;
  rcvSsthresh: number;
  rtt: number;
  rttvar: number;
  sndSsthresh: number;
  sndCwnd: number;
  advmss: number;
  reordering: number;
  rcvSpace: number;
  totalRetrans: number;
  bytesAcked: number;
  bytesReceived: number;
  segsOut: number;
  segsIn: number;
  notsentBytes: number;
  minRtt: number;
  dataSegsIn: number;
  dataSegsOut: number;
  bytesSent: number;
  bytesRetrans: number;
  rcvOoopack: number;
  sndWnd: number;
  rcvWnd: number;
  totalRto: number;
}

/** TCP_INFO_LEN is sizeof(struct tcp_info) on Linux 6.x. */
export const TCP_INFO_LEN = 248;

export function buildTcpInfo(ep: TCPEndpoint): TcpInfo {
  const now = ep.now();
  const mss = Math.max(ep.sndMss, 1);
  const since = (t: number): number => (t === 0 ? 0 : Math.max(0, Math.round(now - t)));
  const unackedBytes = Math.max(0, seqDiff(ep.sndMax, ep.sndUna));
  let caState = TCP_CA_OPEN;
  if (ep.backoff > 0) caState = TCP_CA_LOSS;
  else if (ep.cc.inRecovery) caState = TCP_CA_RECOVERY;
  else if (ep.cc.dupAcks > 0 || ep.sack.sacked > 0) caState = TCP_CA_DISORDER;
  return {
    state: ep.state,
    caState,
    retransmits: ep.backoff,
    probes: ep.keepProbes + ep.persistBackoff,
    backoff: ep.backoff,
    options: (ep.tsOk ? TCPI_OPT_TIMESTAMPS : 0) | (ep.sackOk ? TCPI_OPT_SACK : 0) | (ep.wsOk ? TCPI_OPT_WSCALE : 0),
    sndWscale: ep.wsOk ? ep.sndWndScale : 0,
    rcvWscale: ep.wsOk ? ep.rcvWndScale : 0,
    rto: Math.round(Math.min(ep.cfg.maxRTO, ep.rtt.rto * 2 ** ep.backoff) * 1000),
    ato: ep.cfg.delayedAck ? ep.cfg.delAckMs * 1000 : 0,
    sndMss: ep.sndMss,
    rcvMss: ep.advMss,
    unacked: Math.ceil(unackedBytes / mss),
    sacked: Math.ceil(ep.sack.sacked / mss),
    lost: 0,
    retrans: 0,
    lastDataSent: since(ep.stats.lastDataSent),
    lastDataRecv: since(ep.stats.lastDataRecv),
    lastAckRecv: since(ep.stats.lastAckRecv),
    pmtu: ep.route?.mtu ?? 0,
    rcvSsthresh: ep.rcvCapacity,
    rtt: Math.round(ep.rtt.srtt * 1000),
    rttvar: Math.round(ep.rtt.rttvar * 1000),
    sndSsthresh: Math.min(Math.floor(ep.cc.ssthresh / mss), 0x7fffffff),
    sndCwnd: Math.max(1, Math.floor(ep.cc.cwnd / mss)),
    advmss: ep.advMss,
    reordering: 3,
    rcvSpace: ep.rcvCapacity,
    totalRetrans: ep.stats.retransSegs,
    bytesAcked: ep.stats.bytesAcked,
    bytesReceived: ep.stats.bytesReceived,
    segsOut: ep.stats.segsOut,
    segsIn: ep.stats.segsIn,
    notsentBytes: ep.unsentBytes,
    minRtt: Number.isFinite(ep.rtt.minRtt) ? Math.round(ep.rtt.minRtt * 1000) : 0,
    dataSegsIn: ep.stats.dataSegsIn,
    dataSegsOut: ep.stats.dataSegsOut,
    bytesSent: ep.stats.bytesSent,
    bytesRetrans: ep.stats.bytesRetrans,
    rcvOoopack: ep.stats.outOfOrderSegs,
    sndWnd: ep.sndWnd,
    rcvWnd: Math.max(0, seqDiff(ep.rcvAdvEdge, ep.rcvNxt)),
    totalRto: ep.stats.timeouts,
  };
}

/** encodeTcpInfo lays out struct tcp_info (little-endian, x86-64). */
export function encodeTcpInfo(i: TcpInfo): Uint8Array {
  const b = new Uint8Array(TCP_INFO_LEN);
  const v = new DataView(b.buffer);
  const u32 = (off: number, x: number): void => v.setUint32(off, Math.max(0, Math.min(x, 0xffffffff)) >>> 0, true);
  const u64 = (off: number, x: number): void => v.setBigUint64(off, BigInt(Math.max(0, Math.floor(x))), true);
  b[0] = i.state;
  b[1] = i.caState;
  b[2] = Math.min(i.retransmits, 255);
  b[3] = Math.min(i.probes, 255);
  b[4] = Math.min(i.backoff, 255);
  b[5] = i.options;
  b[6] = (i.sndWscale & 0xf) | ((i.rcvWscale & 0xf) << 4);
  u32(8, i.rto);
  u32(12, i.ato);
  u32(16, i.sndMss);
  u32(20, i.rcvMss);
  u32(24, i.unacked);
  u32(28, i.sacked);
  u32(32, i.lost);
  u32(36, i.retrans);
  u32(44, i.lastDataSent);
  u32(52, i.lastDataRecv);
  u32(56, i.lastAckRecv);
  u32(60, i.pmtu);
  u32(64, i.rcvSsthresh);
  u32(68, i.rtt);
  u32(72, i.rttvar);
  u32(76, i.sndSsthresh);
  u32(80, i.sndCwnd);
  u32(84, i.advmss);
  u32(88, i.reordering);
  u32(96, i.rcvSpace);
  u32(100, i.totalRetrans);
  // Pacing as Linux's tcp_update_pacing_rate sets it once the RTT is known:
  // cwnd segments per smoothed RTT, 200% in slow start and 120% after. No
  // SO_MAX_PACING_RATE: all ones, which ss leaves out.
  if (i.rtt > 0) {
    const ratio = i.sndCwnd < i.sndSsthresh / 2 ? 2 : 1.2;
    u64(104, ((i.sndMss * i.sndCwnd * 1e6) / i.rtt) * ratio);
  } else {
    v.setBigUint64(104, 0xffffffffffffffffn, true);
  }
  v.setBigUint64(112, 0xffffffffffffffffn, true);
  u64(120, i.bytesAcked);
  u64(128, i.bytesReceived);
  u32(136, i.segsOut);
  u32(140, i.segsIn);
  u32(144, i.notsentBytes);
  u32(148, i.minRtt);
  u32(152, i.dataSegsIn);
  u32(156, i.dataSegsOut);
  u64(200, i.bytesSent);
  u64(208, i.bytesRetrans);
  u32(224, i.rcvOoopack);
  u32(228, i.sndWnd);
  u32(232, i.rcvWnd);
  v.setUint16(240, Math.min(i.totalRto, 0xffff), true);
  return b;
}
