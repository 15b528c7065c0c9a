// Drop rules are stored structured (action, source prefix, protocol, port,
// ttl); what agents receive in `command` is rendered from that, in the strict
// iptables-style grammar of SPEC.md section 1:
//   iptables -I INPUT -s 1.2.3.4 -j DROP
//   iptables -I INPUT -s 10.0.0.0/16 -p udp --dport 53 -j DROP
//   iptables -D INPUT -s 1.2.3.4 -j DROP            (withdrawal)
// IPv6 sources use ip6tables. A /32 (/128) source is written without prefix.
import net from 'node:net';
import { checkedPrefix, DEFAULT_POLICY } from '../agent/commands/policy.ts';

export interface RuleSpec {
  op: 'add' | 'remove';
  action: 'drop';
  source: string; // CIDR as PostgreSQL prints it, e.g. "1.2.3.4/32"
  protocol: 'tcp' | 'udp' | 'icmp' | null;
  port: number | null;
}

export function renderCommand(r: RuleSpec): string {
  const [addr, bits] = r.source.split('/');
  const v6 = net.isIPv6(addr ?? '');
  const host = bits === undefined || (v6 ? bits === '128' : bits === '32');
  const parts = [v6 ? 'ip6tables' : 'iptables', r.op === 'add' ? '-I' : '-D', 'INPUT', '-s', host ? addr! : `${addr}/${bits}`];
  if (r.protocol) parts.push('-p', r.protocol === 'icmp' && v6 ? 'icmpv6' : r.protocol);
  if (r.port !== null && r.protocol !== 'icmp') parts.push('--dport', String(r.port));
  parts.push('-j', 'DROP');
  return parts.join(' ');
}

/**
 * A user-given source ("1.2.3.4", "10.0.0.0/16") as the CIDR to store, or the
 * reason it is refused. It is held to the agent's own parser and its default
 * policy (agent/commands), so a rule the server accepts is one an agent with
 * default settings applies: host bits set, octets with leading zeros,
 * IPv4-mapped IPv6 and prefixes broader than /16 (IPv4) or /48 (IPv6) are
 * refused here, with the agent's reason, instead of failing on every node.
 */
export function parseSource(s: string): { ok: true; source: string } | { ok: false; reason: string } {
  const r = checkedPrefix(s, null, 'add', DEFAULT_POLICY);
  return r.ok ? { ok: true, source: r.prefix.cidr } : r;
}

/** The longest rule TTL, seconds: what an agent with default settings accepts. */
export const MAX_RULE_TTL = DEFAULT_POLICY.maxTtlSeconds;
