/**
 * Prefixes of mitigation commands: parsing with reasons, containment.
 * Addresses are parsed by native/address.ts. Host bits set in a prefix are an
 * error, not silently cleared (docs/commands.md).
 */
import { formatAddress, maskBytes, parseIPv4, parseIPv6 } from '../../native/address.ts';
import type { Family, Prefix } from './types.ts';

export { formatAddress, maskBytes, parseIPv4, parseIPv6 };

export type PrefixResult = { ok: true; prefix: Prefix } | { ok: false; reason: string };

/** Parses "addr" or "addr/len". With `mask`, host bits are cleared instead of refused. */
export function parsePrefix(text: string, mask = false): PrefixResult {
  const slash = text.split('/');
  if (slash.length > 2) return { ok: false, reason: `"${text}" is not an address or prefix` };
  const addr = slash[0] ?? '';
  const bytes = addr.includes(':') ? parseIPv6(addr) : parseIPv4(addr);
  if (!bytes) return { ok: false, reason: `"${addr}" is not a valid IPv4 or IPv6 address` };
  const family: Family = bytes.length === 4 ? 4 : 6;
  const max = family === 4 ? 32 : 128;
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

/** True when `outer` contains every address of `inner` (same family). */
export function contains(outer: Prefix, inner: Prefix): boolean {
  if (outer.family !== inner.family || outer.length > inner.length) return false;
  const m = maskBytes(inner.bytes, outer.length);
  return m.every((b, i) => b === outer.bytes[i]);
}

export function overlaps(a: Prefix, b: Prefix): boolean {
  return contains(a, b) || contains(b, a);
}
