/**
 * Network prefixes: the one parser (with reasons), containment, and the
 * special-purpose ranges that no drop rule may cover. Addresses are parsed
 * by ./address.ts. Host bits set in a prefix are an error, not silently
 * cleared (docs/commands.md), unless the caller asks for masking.
 */
import { formatAddress, maskBytes, parseIPv4, parseIPv6 } from './address.ts';

export { formatAddress, maskBytes, parseIPv4, parseIPv6 };

export type Family = 4 | 6;

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

export type PrefixResult = { ok: true; prefix: Prefix } | { ok: false; reason: string };

export const hostLength = (family: Family): number => (family === 4 ? 32 : 128);

/** Parses "addr" or "addr/len". With `mask`, host bits are cleared instead of refused. */
export function parsePrefix(text: string, mask = false): PrefixResult {
  const slash = text.split('/');
  if (slash.length > 2) return { ok: false, reason: `"${text}" is not an address or prefix` };
  const addr = slash[0] ?? '';
  const bytes = addr.includes(':') ? parseIPv6(addr) : parseIPv4(addr);
  if (!bytes) return { ok: false, reason: `"${addr}" is not a valid IPv4 or IPv6 address` };
  const family: Family = bytes.length === 4 ? 4 : 6;
  const max = hostLength(family);
  let length = max;
  if (slash.length === 2) {
    const l = slash[1] ?? '';
    if (!/^(0|[1-9][0-9]{0,2})$/.test(l) || Number(l) > max) {
      return { ok: false, reason: `prefix length "/${l}" is not between 0 and ${max}` };
    }
    length = Number(l);
  }
  const net = maskBytes(bytes, length);
  if (!mask && net.some((b, i) => b !== bytes[i])) {
    const fixed = `${formatAddress(net)}/${length}`;
    return { ok: false, reason: `"${text}" has host bits set: write ${fixed}, or /${max} for the single address` };
  }
  const address = formatAddress(net);
  return { ok: true, prefix: { family, address, length, cidr: `${address}/${length}`, bytes: net } };
}

export class PrefixError extends Error {
  readonly code = 'EINVAL';
  constructor(message: string) {
    super(message);
    this.name = 'PrefixError';
  }
}

/** parsePrefix for callers holding text they trust (tests, benches, config): throws PrefixError. */
export function prefixOf(text: string, mask = false): Prefix {
  const r = parsePrefix(String(text).trim(), mask);
  if (!r.ok) throw new PrefixError(r.reason);
  return r.prefix;
}

/** True when `outer` contains every address of `inner` (same family). */
export function contains(outer: Prefix, inner: Prefix): boolean {
  if (outer.family !== inner.family || outer.length > inner.length) return false;
  const m = maskBytes(inner.bytes, outer.length);
  return m.every((b, i) => b === outer.bytes[i]);
}

export function overlaps(a: Prefix, b: Prefix): boolean {
  return contains(a, b) || contains(b, a);
}

/**
 * Sources no drop rule may cover: none of them is an attacker's address on
 * the wire, and dropping some (unspecified, link-local) cuts a host off its
 * own network (DHCP, ARP-less IPv6 neighbour discovery, duplicate address
 * detection). Ordered so that the most specific name comes first.
 */
export const SPECIAL_RANGES: readonly { label: string; prefix: Prefix }[] = [
  ['broadcast', '255.255.255.255/32'],
  ['unspecified', '0.0.0.0/8'],
  ['loopback', '127.0.0.0/8'],
  ['link-local', '169.254.0.0/16'],
  ['multicast', '224.0.0.0/4'],
  ['reserved', '240.0.0.0/4'],
  ['unspecified', '::/128'],
  ['loopback', '::1/128'],
  ['link-local', 'fe80::/10'],
  ['multicast', 'ff00::/8'],
].map(([label, cidr]) => ({ label: label!, prefix: prefixOf(cidr!) }));

/** The special-purpose range a prefix overlaps, if any. */
export function specialRange(p: Prefix): { label: string; prefix: Prefix } | undefined {
  return SPECIAL_RANGES.find((r) => overlaps(r.prefix, p));
}
