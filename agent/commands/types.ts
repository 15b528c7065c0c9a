/**
 * Types of the mitigation-command parser: the typed rule it produces, the
 * refusal it returns instead, and the policy that bounds what it accepts.
 */

export type Family = 4 | 6;
export type Protocol = 'tcp' | 'udp' | 'icmp';

/** A network prefix with its host bits clear. */
export interface Prefix {
  family: Family;
  /** Network address in canonical text (RFC 5952 for IPv6). */
  address: string;
  length: number;
  /** "address/length" */
  cidr: string;
  /** Network address bytes (4 or 16), network order. */
  bytes: readonly number[];
}

export interface Rule {
  op: 'add' | 'delete';
  family: Family;
  prefix: Prefix;
  /** Absent: any protocol. 'icmp' means ICMPv6 for family 6. */
  protocol?: Protocol;
  /** Destination port, only with tcp or udp. Absent: any port. */
  port?: number;
  /** Lifetime of an added rule; 0 for a delete. */
  ttlSeconds: number;
}

export type ParseResult = { ok: true; rule: Rule } | { ok: false; reason: string };

export interface CommandPolicy {
  /** Shortest accepted IPv4 prefix length (broadest block); default 16. */
  minPrefixV4: number;
  /** Shortest accepted IPv6 prefix length; default 48. */
  minPrefixV6: number;
  /** TTL of a rule that does not give one, seconds; default 3600. */
  defaultTtlSeconds: number;
  /** Longest TTL accepted, seconds; default 86400. */
  maxTtlSeconds: number;
  /** Longest command accepted, characters; default 512. */
  maxLength: number;
}

export const refuse = (reason: string): { ok: false; reason: string } => ({ ok: false, reason });
