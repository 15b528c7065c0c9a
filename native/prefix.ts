// Source prefixes as the kernel wants them: family, network address bytes
// (host bits cleared) and prefix length. Accepts "a.b.c.d", "a.b.c.d/n",
// IPv6 in any RFC 4291 text form, with or without "/n".
import { isIPv4, isIPv6 } from 'node:net';

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

function v4Bytes(text: string): Buffer {
  return Buffer.from(text.split('.').map((part) => Number(part)));
}

function v6Bytes(text: string): Buffer {
  let s = text;
  // An embedded IPv4 tail (::ffff:1.2.3.4) becomes two hex groups.
  const tail = s.match(/(\d+\.\d+\.\d+\.\d+)$/);
  if (tail?.[1]) {
    const b = v4Bytes(tail[1]);
    s = s.slice(0, -tail[1].length) + b.readUInt16BE(0).toString(16) + ':' + b.readUInt16BE(2).toString(16);
  }
  const [head = '', rest] = s.split('::');
  const h = head ? head.split(':') : [];
  const t = rest !== undefined && rest !== '' ? rest.split(':') : [];
  const groups = [...h, ...Array(8 - h.length - t.length).fill('0'), ...t];
  const out = Buffer.alloc(16);
  groups.forEach((g, i) => out.writeUInt16BE(parseInt(g, 16), i * 2));
  return out;
}

/** Parses a prefix. Host bits past the length are refused unless `mask` is set. */
export function parsePrefix(text: string, opts: { mask?: boolean } = {}): Prefix {
  const [addr = '', len, extra] = String(text).trim().split('/');
  if (extra !== undefined) throw new PrefixError(`'${text}' is not an address or prefix`);
  const family = isIPv4(addr) ? 4 : isIPv6(addr) ? 6 : 0;
  if (family === 0) throw new PrefixError(`'${addr}' is not an IPv4 or IPv6 address`);
  const bits = family === 4 ? 32 : 128;
  const prefixLen = len === undefined ? bits : Number(len);
  if (!/^\d+$/.test(len ?? String(bits)) || prefixLen > bits)
    throw new PrefixError(`prefix length '/${len}' is not between 0 and ${bits}`);
  const address = family === 4 ? v4Bytes(addr) : v6Bytes(addr);
  for (let bit = prefixLen; bit < bits; bit++) {
    const byte = bit >> 3;
    const m = 0x80 >> (bit & 7);
    if ((address[byte] ?? 0) & m) {
      if (!opts.mask) throw new PrefixError(`'${text}' has host bits set past /${prefixLen}`);
      address[byte] = (address[byte] ?? 0) & ~m;
    }
  }
  return { family, address, prefixLen };
}

export function formatPrefix(p: { family: 4 | 6; address: string; prefixLen: number }): string {
  return `${p.address}/${p.prefixLen}`;
}
