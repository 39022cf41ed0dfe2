import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SOL_IP, SOL_IPV6, SOL_NETLINK, SOL_SOCKET, SOL_TCP, SOL_UDP, levelFits, optionRule } from './options.js';

test('plain options pass through, pointer-bearing and privileged ones stay out', () => {
  assert.deepEqual(optionRule(SOL_TCP, 1), { getSize: 4, set: true }); // TCP_NODELAY
  assert.equal(optionRule(SOL_TCP, 11)?.set, false); // TCP_INFO is read-only
  assert.equal(optionRule(SOL_SOCKET, 4)?.set, false); // SO_ERROR
  assert.equal(optionRule(SOL_SOCKET, 26), null); // SO_ATTACH_FILTER carries a pointer
  assert.equal(optionRule(SOL_SOCKET, 20), null); // SO_RCVTIMEO is the Sentry's
  assert.equal(optionRule(SOL_SOCKET, 36), null); // SO_MARK needs CAP_NET_ADMIN on the host
  assert.equal(optionRule(SOL_SOCKET, 13), null); // SO_LINGER is the Sentry's: a lingering close would block it
  assert.equal(optionRule(SOL_IP, 3), null); // IP_HDRINCL: raw sockets only
  assert.equal(optionRule(SOL_IP, 19), null); // IP_TRANSPARENT
  assert.equal(optionRule(SOL_IPV6, 26)?.getSize, 4); // IPV6_V6ONLY
  assert.equal(optionRule(SOL_IP, 35)?.getSize, 0); // IP_ADD_MEMBERSHIP is write-only
});

test('levels follow the socket', () => {
  assert.equal(levelFits(SOL_TCP, 2, true), true);
  assert.equal(levelFits(SOL_TCP, 2, false), false);
  assert.equal(levelFits(SOL_UDP, 10, false), true);
  assert.equal(levelFits(SOL_IPV6, 2, true), false);
  assert.equal(levelFits(SOL_IPV6, 10, true), true);
  assert.equal(levelFits(255, 2, true), false);
  assert.equal(levelFits(SOL_NETLINK, 16, false), true);
  assert.equal(levelFits(SOL_IP, 16, false), false);
  assert.equal(levelFits(SOL_NETLINK, 2, false), false);
});
