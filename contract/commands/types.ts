/**
 * Types of the mitigation-command grammar: the command it parses into (an
 * operation on one rule of the one rule shape, ../rule.ts), the refusal it
 * returns instead, and the policy that bounds what it accepts.
 */
import type { Family, Prefix } from '../net/prefix.ts';
import type { Protocol, Rule } from '../rule.ts';

export type { Family, Prefix, Protocol, Rule };

/** A parsed command: add the rule (its ttlSeconds set), or delete the rule with the same match. */
export interface Command {
  op: 'add' | 'delete';
  rule: Rule;
}

export type ParseResult = { ok: true; command: Command } | { ok: false; reason: string };

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
