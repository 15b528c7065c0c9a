/**
 * The one shape of a drop rule, from the user API to the addon: the server
 * stores and renders it, the command grammar parses into it, the agent and
 * auto-mitigation hand it to the addon, which alone encodes it for the kernel
 * (protocol numbers, rule classes, key layout: bpf/breakwater.h).
 */
import { hostLength, type Prefix } from './net/prefix.ts';

/** L4 protocols a rule can name; 'icmp' means ICMPv6 for an IPv6 source. */
export const PROTOCOLS = ['tcp', 'udp', 'icmp'] as const;
export type Protocol = (typeof PROTOCOLS)[number];

/** What a rule matches. */
export interface RuleMatch {
  source: Prefix;
  /** Absent: any protocol. */
  protocol?: Protocol;
  /** Destination port 1-65535, with tcp or udp only. Absent: any port. */
  port?: number;
  /** ICMP (ICMPv6) type 0-255, with icmp only. Absent: any type. */
  icmpType?: number;
}

/** A rule as the kernel holds it: a match, what it does, and how long. */
export interface Rule extends RuleMatch {
  /** 'drop' (default) or 'log': count matches and pass. */
  mode?: 'drop' | 'log';
  /** Lifetime from now, s; or expiresAt, wall-clock ms. Neither: never expires. */
  ttlSeconds?: number;
  expiresAt?: number;
}

/** Why a match is not one the kernel can hold, or null. */
export function matchProblem(m: RuleMatch): string | null {
  if (m.protocol !== undefined && !PROTOCOLS.includes(m.protocol)) return `protocol must be tcp, udp or icmp, not '${m.protocol}'`;
  if (m.port !== undefined) {
    if (!Number.isInteger(m.port) || m.port < 1 || m.port > 65_535) return `port must be an integer from 1 to 65535, not '${m.port}'`;
    if (m.protocol !== 'tcp' && m.protocol !== 'udp') return 'a destination port needs protocol tcp or udp';
  }
  if (m.icmpType !== undefined) {
    if (m.protocol !== 'icmp' || m.port !== undefined) return 'an ICMP type needs protocol icmp and no port';
    if (!Number.isInteger(m.icmpType) || m.icmpType < 0 || m.icmpType > 255)
      return `ICMP type must be an integer from 0 to 255, not '${m.icmpType}'`;
  }
  return null;
}

/** A stable text key of a match: equal matches, equal keys. */
export function matchKey(m: RuleMatch): string {
  return `${m.source.cidr}|${m.protocol ?? ''}|${m.port ?? ''}|${m.icmpType ?? ''}`;
}

/** True when two matches name the same kernel rule. */
export const sameMatch = (a: RuleMatch, b: RuleMatch): boolean => matchKey(a) === matchKey(b);

/** "198.18.0.0/16 udp port 53", "198.18.0.7 icmp type 8": for logs and refusals. */
export function describeMatch(m: RuleMatch): string {
  const src = m.source.length === hostLength(m.source.family) ? m.source.address : m.source.cidr;
  const what = m.port !== undefined ? ` port ${m.port}` : m.icmpType !== undefined ? ` type ${m.icmpType}` : '';
  return `${src}${m.protocol ? ` ${m.protocol}` : ''}${what}`;
}
