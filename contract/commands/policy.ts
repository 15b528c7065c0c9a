/**
 * The command policy: defaults, their validation, and the checks shared by
 * both command forms and the server's rule API (prefix breadth, IPv4-mapped
 * IPv6, special-purpose ranges, TTL bounds). One implementation: the server
 * refuses what an agent with the default policy refuses, with its reason.
 */
import { parsePrefix, specialRange } from '../net/prefix.ts';
import { type CommandPolicy, type Family, type Prefix, refuse } from './types.ts';

export const DEFAULT_POLICY: Readonly<CommandPolicy> = Object.freeze({
  minPrefixV4: 16,
  minPrefixV6: 48,
  defaultTtlSeconds: 3_600,
  maxTtlSeconds: 86_400,
  maxLength: 512,
});

/** Defaults overridden by `over`; throws on a value no policy should hold (a config error). */
export function resolvePolicy(over: Partial<CommandPolicy> = {}): CommandPolicy {
  const p = { ...DEFAULT_POLICY, ...over };
  const int = (v: number, lo: number, hi: number, name: string): void => {
    if (!Number.isInteger(v) || v < lo || v > hi) throw new RangeError(`${name} must be an integer in ${lo}..${hi}, got ${v}`);
  };
  int(p.minPrefixV4, 1, 32, 'minPrefixV4');
  int(p.minPrefixV6, 1, 128, 'minPrefixV6');
  int(p.maxTtlSeconds, 1, 365 * 86_400, 'maxTtlSeconds');
  int(p.defaultTtlSeconds, 1, p.maxTtlSeconds, 'defaultTtlSeconds');
  int(p.maxLength, 16, 65_536, 'maxLength');
  return p;
}

/**
 * Parses a rule's source prefix and applies the policy: the family must be
 * the one the command names (null: any), and an added rule may neither be
 * broader than the policy allows nor cover a special-purpose range
 * (loopback, link-local, multicast, broadcast, unspecified, reserved).
 * Deletes are held to neither: removing a drop can only let traffic through.
 */
export function checkedPrefix(
  text: string,
  family: Family | null,
  op: 'add' | 'delete',
  policy: CommandPolicy,
): { ok: true; prefix: Prefix } | { ok: false; reason: string } {
  const r = parsePrefix(text);
  if (!r.ok) return r;
  const p = r.prefix;
  if (family === 4 && p.family === 6) return refuse(`${text} is an IPv6 address: use ip6tables`);
  if (family === 6 && p.family === 4) return refuse(`${text} is an IPv4 address: use iptables`);
  if (p.family === 6 && p.length >= 96 && p.bytes.slice(0, 12).join() === '0,0,0,0,0,0,0,0,0,0,255,255') {
    return refuse(`${text} is IPv4-mapped: IPv4 traffic is matched by iptables rules, write the IPv4 address`);
  }
  if (op === 'delete') return { ok: true, prefix: p };
  const min = p.family === 4 ? policy.minPrefixV4 : policy.minPrefixV6;
  if (p.length < min) {
    return refuse(`/${p.length} is broader than the policy allows (at most /${min} for IPv${p.family})`);
  }
  const special = specialRange(p);
  if (special) return refuse(`${p.cidr} is in ${special.prefix.cidr} (${special.label}): no rule may drop special-purpose addresses`);
  return { ok: true, prefix: p };
}

/** The TTL of an added rule: the default when absent, refused when out of bounds. */
export function checkedTtl(ttl: unknown, policy: CommandPolicy): { ok: true; ttl: number } | { ok: false; reason: string } {
  if (ttl === undefined) return { ok: true, ttl: policy.defaultTtlSeconds };
  if (typeof ttl !== 'number' || !Number.isInteger(ttl) || ttl < 1) return refuse('ttl_seconds must be a positive integer');
  if (ttl > policy.maxTtlSeconds) return refuse(`ttl_seconds ${ttl} exceeds the maximum of ${policy.maxTtlSeconds}`);
  return { ok: true, ttl };
}

export function checkedPort(text: string): number | null {
  if (!/^[1-9][0-9]{0,4}$/.test(text)) return null;
  const n = Number(text);
  return n <= 65_535 ? n : null;
}
