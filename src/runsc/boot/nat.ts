// NAT for `runsc do --network=sandbox`: the sandbox's TAP link reaches past
// the host, as gVisor's `do` arranges with iptables. runsc (host root, before
// the sandbox starts) adds, tagged with the comment tsvisor-TAP:
//   nat    POSTROUTING -s SANDBOX/32 ! -o TAP -j MASQUERADE
//   filter FORWARD     -i TAP -s SANDBOX/32 -j ACCEPT
//   filter FORWARD     -o TAP -d SANDBOX/32 -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
// gVisor masquerades out of the default-route device only; here it is every
// device but the TAP, so any route the host has (not only the default one)
// works, and the host's own addresses (INPUT, no POSTROUTING) see the
// sandbox's real address as today. Inbound forwarding is limited to replies:
// gVisor accepts everything from the default device to the sandbox, which
// lets any LAN host that routes through this one open connections into it.
// The FORWARD rules are inserted first so that a trailing REJECT of a host
// firewall does not shadow them.
//
// net.ipv4.ip_forward is set to 1 if it is 0 and left on afterwards, as
// gVisor and Docker do: another sandbox, Docker or libvirt may have come to
// rely on it meanwhile, and nothing records who turned it on.
//
// The rules go when the sandbox ends (release, also on runsc's exit). A
// runsc killed outright leaves them: every setup first removes tsvisor-IF
// rules whose interface no longer exists (the TAP dies with the sandbox).

import * as fs from 'node:fs';
import { findTool, run } from './netns.js';

export const NAT_TAG = 'tsvisor-';

/** NatRule is one rule: table, chain and the match/target arguments. */
export interface NatRule {
  table: 'nat' | 'filter';
  chain: string;
  args: string[];
  /** insert: -I (first in the chain) rather than -A. */
  insert: boolean;
}

/** natRules are the rules for a sandbox at sandboxIp behind the host TAP tap. */
export function natRules(tap: string, sandboxIp: string): NatRule[] {
  const tag = ['-m', 'comment', '--comment', NAT_TAG + tap];
  const ip = `${sandboxIp}/32`;
  return [
    { table: 'nat', chain: 'POSTROUTING', insert: false, args: ['-s', ip, '!', '-o', tap, ...tag, '-j', 'MASQUERADE'] },
    { table: 'filter', chain: 'FORWARD', insert: true, args: ['-i', tap, '-s', ip, ...tag, '-j', 'ACCEPT'] },
    { table: 'filter', chain: 'FORWARD', insert: true,
      args: ['-o', tap, '-d', ip, '-m', 'conntrack', '--ctstate', 'RELATED,ESTABLISHED', ...tag, '-j', 'ACCEPT'] },
  ];
}

/** restoreScript is iptables-restore input that adds (or deletes) rules. */
export function restoreScript(rules: NatRule[], del: boolean): string {
  let out = '';
  for (const table of ['nat', 'filter'] as const) {
    const mine = rules.filter((r) => r.table === table);
    if (mine.length === 0) continue;
    out += `*${table}\n`;
    for (const r of mine) out += `${del ? '-D' : r.insert ? '-I' : '-A'} ${r.chain} ${r.args.join(' ')}\n`;
    out += 'COMMIT\n';
  }
  return out;
}

/** SAFE_TOKEN: what an argument of a rule runsc wrote looks like (no quoting in iptables-save). */
const SAFE_TOKEN = /^[A-Za-z0-9_.,/:!+-]+$/;

/** staleRules picks, from `iptables-save` output, the tsvisor-IF rules whose
 *  interface IF no longer exists (alive says whether it does). */
export function staleRules(save: string, alive: (ifname: string) => boolean): NatRule[] {
  const out: NatRule[] = [];
  let table = '';
  for (const line of save.split('\n')) {
    if (line.startsWith('*')) {
      table = line.slice(1).trim();
      continue;
    }
    if (!line.startsWith('-A ') || (table !== 'nat' && table !== 'filter')) continue;
    const tok = line.trim().split(/\s+/);
    const c = tok.indexOf('--comment');
    if (c < 0 || !tok[c + 1]?.startsWith(NAT_TAG)) continue;
    const ifname = tok[c + 1].slice(NAT_TAG.length);
    if (!ifname || alive(ifname) || !tok.every((t) => SAFE_TOKEN.test(t))) continue;
    out.push({ table, chain: tok[1], args: tok.slice(2), insert: false });
  }
  return out;
}

/** Nat is the NAT set up for one sandbox. */
export interface Nat {
  /** release removes the rules (idempotent; errors are logged, not thrown). */
  release(): void;
}

function linkExists(ifname: string): boolean {
  return fs.existsSync(`/sys/class/net/${ifname}`);
}

/** enableIpForward turns on IPv4 forwarding; true if it was off. */
function enableIpForward(): boolean {
  const p = '/proc/sys/net/ipv4/ip_forward';
  if (fs.readFileSync(p, 'utf8').trim() === '1') return false;
  fs.writeFileSync(p, '1\n');
  return true;
}

/** enableNat lets the sandbox at sandboxIp behind tap reach past the host
 *  (needs host root). Null, with a debug line saying why, when it cannot:
 *  the sandbox then reaches the host's addresses only. */
export function enableNat(tap: string, sandboxIp: string, debug: (msg: string) => void): Nat | null {
  let save: string;
  let restore: string;
  try {
    save = findTool(['iptables-save']);
    restore = findTool(['iptables-restore']);
  } catch {
    debug('--network=sandbox: iptables is not installed: no NAT, the sandbox reaches this host only');
    return null;
  }
  try {
    const stale = staleRules(run([save]), linkExists);
    if (stale.length > 0) {
      debug(`--network=sandbox: removing ${stale.length} iptables rule(s) left by sandboxes that are gone`);
      run([restore, '-w', '10', '--noflush'], restoreScript(stale, true));
    }
  } catch (e) {
    debug(`--network=sandbox: cleaning up stale iptables rules: ${(e as Error).message}`);
  }
  const rules = natRules(tap, sandboxIp);
  let done = false;
  const release = (): void => {
    if (done) return;
    done = true;
    process.off('exit', release);
    try {
      run([restore, '-w', '10', '--noflush'], restoreScript(rules, true));
    } catch (e) {
      debug(`--network=sandbox: removing the NAT rules of ${tap}: ${(e as Error).message.trim()}`);
    }
  };
  try {
    // One transaction: all the rules or none.
    run([restore, '-w', '10', '--noflush'], restoreScript(rules, false));
  } catch (e) {
    debug(`--network=sandbox: no NAT (${(e as Error).message.trim()}); the sandbox reaches this host only`);
    return null;
  }
  try {
    if (enableIpForward()) debug('--network=sandbox: net.ipv4.ip_forward was 0, set to 1 (left on)');
  } catch (e) {
    release();
    debug(`--network=sandbox: no NAT, IPv4 forwarding is off and cannot be turned on (${(e as Error).message}); the sandbox reaches this host only`);
    return null;
  }
  debug(`--network=sandbox: NAT for ${sandboxIp} behind ${tap}`);
  // Whatever way runsc ends (but a fatal signal), the rules go with it.
  process.on('exit', release);
  return { release };
}
