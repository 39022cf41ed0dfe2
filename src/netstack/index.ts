// netstack's public surface: what the Sentry's socket layer imports.

export * from './addr.js';
export * from './errors.js';
export * from './waiter.js';
export * from './sockopt.js';
export { realClock, FakeClock, Timer, type Clock } from './clock.js';
export { PacketBuffer, ByteQueue } from './buffer.js';
export type { LinkEndpoint, FrameLink, LinkCapabilities, DeliverFn } from './link/endpoint.js';
export { EthernetEndpoint } from './link/ethernet.js';
export { FdFrameLink } from './link/fd.js';
export { LoopbackEndpoint, LOOPBACK_MTU } from './link/loopback.js';
export { Channel, ChannelLink, type ChannelFilter, type Verdict } from './link/channel.js';
export { Stack, type StackOptions, type StackStats, type RouteEntry } from './stack/stack.js';
export type { NIC } from './stack/nic.js';
export type { NetProto, Route } from './stack/types.js';
export { TCPEndpoint, READ_WOULD_BLOCK, SHUT_RD, SHUT_WR, SHUT_RDWR, type ReadOptions, type WriteOptions } from './transport/tcp/endpoint.js';
export { DEFAULT_TCP_CONFIG, type TCPConfig } from './transport/tcp/protocol.js';
export { encodeTcpInfo, TCP_INFO_LEN, type TcpInfo } from './transport/tcp/info.js';
export { STATE_NAMES as TCP_STATE_NAMES } from './transport/tcp/state.js';
export { UDPEndpoint, type RecvResult } from './transport/udp/endpoint.js';
export { PingEndpoint, type PingReply } from './transport/icmp/endpoint.js';
export { RawEndpoint, PROTO_RAW, ICMP_FILTER_LEN, ICMP6_FILTER_LEN, type RawPacket } from './transport/raw/endpoint.js';
