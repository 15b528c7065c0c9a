// Source prefixes as the kernel wants them: family, network address bytes
// (host bits cleared) and prefix length. Accepts "a.b.c.d", "a.b.c.d/n",
// IPv6 in any RFC 4291 text form, with or without "/n".
import { maskBytes, parseIPv4, parseIPv6 } from '../contract/net/address.ts';

export interface Prefix {
  family: 4 | 6;
  address: Buffer;
  prefixLen: number;
}

export class PrefixError extends Error {
  readonly code = 'EINVAL';
  constructor(message: string) {
    super(message);
    this.name = 'PrefixError';
  }
}

/** Parses a prefix. Host bits past the length are refused unless `mask` is set. */
export function parsePrefix(text: string, opts: { mask?: boolean } = {}): Prefix {
  const [addr = '', len, extra] = String(text).trim().split('/');
  if (extra !== undefined) throw new PrefixError(`'${text}' is not an address or prefix`);
  const bytes = addr.includes(':') ? parseIPv6(addr) : parseIPv4(addr);
  if (!bytes) throw new PrefixError(`'${addr}' is not an IPv4 or IPv6 address`);
  const family = bytes.length === 4 ? 4 : 6;
  const bits = family === 4 ? 32 : 128;
  const prefixLen = len === undefined ? bits : Number(len);
  if (!/^\d+$/.test(len ?? String(bits)) || prefixLen > bits)
    throw new PrefixError(`prefix length '/${len}' is not between 0 and ${bits}`);
  const net = maskBytes(bytes, prefixLen);
  if (!opts.mask && net.some((b, i) => b !== bytes[i]))
    throw new PrefixError(`'${text}' has host bits set past /${prefixLen}`);
  return { family, address: Buffer.from(net), prefixLen };
}
