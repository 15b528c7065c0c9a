// Drop rules are stored structured (action, source prefix, protocol, port,
// ttl); what agents receive in `command` is rendered from that, in the strict
// iptables-style grammar of SPEC.md section 1:
//   iptables -I INPUT -s 1.2.3.4 -j DROP
//   iptables -I INPUT -s 10.0.0.0/8 -p udp --dport 53 -j DROP
//   iptables -D INPUT -s 1.2.3.4 -j DROP            (withdrawal)
// IPv6 sources use ip6tables. A /32 (/128) source is written without prefix.
import net from 'node:net';

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

/** Normalises a user-given source ("1.2.3.4", "10.0.0.0/8") or returns null when it is not one. */
export function parseSource(s: string): string | null {
  const [addr, bits, extra] = s.split('/');
  if (extra !== undefined || !addr) return null;
  const fam = net.isIP(addr);
  if (!fam) return null;
  const max = fam === 4 ? 32 : 128;
  if (bits === undefined) return `${addr}/${max}`;
  if (!/^\d{1,3}$/.test(bits) || Number(bits) > max) return null;
  return `${addr}/${bits}`;
}
