/**
 * A command in the iptables-style form of SPEC.md section 1, the inverse of
 * ./iptables.ts (a test parses every rendering back to the same command):
 *   iptables -I INPUT -s 198.18.0.7 -j DROP
 *   iptables -I INPUT -s 198.18.0.0/16 -p udp --dport 53 -j DROP
 *   ip6tables -D INPUT -s 2001:db8::/48 -p icmpv6 -j DROP     (a delete)
 *   iptables -I INPUT -s 198.18.0.7 -j LOG                      (log-only: counts, drops nothing)
 * A host source (/32, /128) is written without its length. The grammar has
 * no ICMP type: such a rule cannot be rendered.
 */
import { hostLength } from '../net/prefix.ts';
import type { Command } from './types.ts';

export function renderCommand(cmd: Command): string {
  const { source, protocol, port, icmpType } = cmd.rule;
  if (icmpType !== undefined) throw new TypeError('a rule by ICMP type has no iptables-style form');
  const v6 = source.family === 6;
  const src = source.length === hostLength(source.family) ? source.address : source.cidr;
  const parts = [v6 ? 'ip6tables' : 'iptables', cmd.op === 'add' ? '-I' : '-D', 'INPUT', '-s', src];
  if (protocol) parts.push('-p', protocol === 'icmp' && v6 ? 'icmpv6' : protocol);
  if (port !== undefined) parts.push('--dport', String(port));
  parts.push('-j', cmd.op === 'add' && cmd.rule.mode === 'log' ? 'LOG' : 'DROP');
  return parts.join(' ');
}
