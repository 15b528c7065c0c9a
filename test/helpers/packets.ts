// Builds Ethernet frames for BPF_PROG_TEST_RUN: every header a field at a
// time, so tests can break exactly one thing (a length, a flag, a boundary).
import { prefixOf } from '../../contract/net/prefix.ts';

const bytesOf = (address: string) => Buffer.from(prefixOf(address).bytes);

export interface L4 {
  proto: number;
  bytes: Buffer;
}

export function tcp(o: { sport?: number; dport?: number; flags?: number; doff?: number; payload?: number } = {}): L4 {
  const doff = o.doff ?? 5;
  const hdr = Buffer.alloc(Math.max(20, doff * 4));
  hdr.writeUInt16BE(o.sport ?? 40000, 0);
  hdr.writeUInt16BE(o.dport ?? 80, 2);
  hdr[12] = (doff & 0xf) << 4;
  hdr[13] = o.flags ?? 0x02;
  return { proto: 6, bytes: Buffer.concat([hdr, Buffer.alloc(o.payload ?? 0)]) };
}

export function udp(o: { sport?: number; dport?: number; payload?: number; len?: number } = {}): L4 {
  const payload = Buffer.alloc(o.payload ?? 18);
  const hdr = Buffer.alloc(8);
  hdr.writeUInt16BE(o.sport ?? 40000, 0);
  hdr.writeUInt16BE(o.dport ?? 53, 2);
  hdr.writeUInt16BE(o.len ?? 8 + payload.length, 4);
  return { proto: 17, bytes: Buffer.concat([hdr, payload]) };
}

export function icmp(o: { v6?: boolean; payload?: number; type?: number } = {}): L4 {
  const hdr = Buffer.alloc(8 + (o.payload ?? 0));
  hdr[0] = o.type ?? (o.v6 ? 128 : 8); // echo request by default
  return { proto: o.v6 ? 58 : 1, bytes: hdr };
}

export function raw(proto: number, bytes: Buffer): L4 {
  return { proto, bytes };
}

export interface Ipv4Opts {
  src?: string;
  dst?: string;
  ttl?: number;
  ihl?: number;
  totLen?: number;
  mf?: boolean;
  fragOffset?: number;
  version?: number;
}

export function ipv4(l4: L4, o: Ipv4Opts = {}): Buffer {
  const ihl = o.ihl ?? 5;
  const hdr = Buffer.alloc(Math.max(20, ihl * 4));
  hdr[0] = ((o.version ?? 4) << 4) | (ihl & 0xf);
  hdr.writeUInt16BE(o.totLen ?? hdr.length + l4.bytes.length, 2);
  hdr.writeUInt16BE((o.mf ? 0x2000 : 0) | ((o.fragOffset ?? 0) & 0x1fff), 6);
  hdr[8] = o.ttl ?? 64;
  hdr[9] = l4.proto;
  bytesOf(o.src ?? '198.18.0.2').copy(hdr, 12);
  bytesOf(o.dst ?? '198.18.0.1').copy(hdr, 16);
  // A real header checksum: the program ignores it, a real stack would not.
  let sum = 0;
  for (let i = 0; i < hdr.length; i += 2) sum += hdr.readUInt16BE(i);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  hdr.writeUInt16BE(~sum & 0xffff, 10);
  return Buffer.concat([hdr, l4.bytes]);
}

export interface ExtHeader {
  type: number; // 0 hop-by-hop, 43 routing, 60 dest opts, 51 AH, 44 fragment
  fragOffset?: number;
  more?: boolean;
}

export function ipv6(l4: L4, o: { src?: string; dst?: string; hopLimit?: number; ext?: ExtHeader[]; payloadLen?: number } = {}): Buffer {
  const ext = o.ext ?? [];
  const parts: Buffer[] = [];
  ext.forEach((e, i) => {
    const next = i + 1 < ext.length ? ext[i + 1]!.type : l4.proto;
    const h = Buffer.alloc(8);
    h[0] = next;
    if (e.type === 44) h.writeUInt16BE(((e.fragOffset ?? 0) << 3) | (e.more ? 1 : 0), 2);
    else if (e.type === 51) h[1] = 0; // AH: (0 + 2) * 4 = 8 bytes
    parts.push(h);
  });
  const payload = Buffer.concat([...parts, l4.bytes]);
  const hdr = Buffer.alloc(40);
  hdr[0] = 0x60;
  hdr.writeUInt16BE(o.payloadLen ?? payload.length, 4);
  hdr[6] = ext.length ? ext[0]!.type : l4.proto;
  hdr[7] = o.hopLimit ?? 64;
  bytesOf(o.src ?? '2001:db8::2').copy(hdr, 8);
  bytesOf(o.dst ?? '2001:db8::1').copy(hdr, 24);
  return Buffer.concat([hdr, payload]);
}

/** An Ethernet frame; vlans lists the tag ethertypes outermost first (0x8100, 0x88a8). */
export function eth(payload: Buffer, o: { type?: number; vlans?: number[] } = {}): Buffer {
  const type = o.type ?? (payload[0]! >> 4 === 6 ? 0x86dd : 0x0800);
  const vlans = o.vlans ?? [];
  const hdr = Buffer.alloc(14 + 4 * vlans.length);
  Buffer.from([0x02, 0, 0, 0, 0, 1, 0x02, 0, 0, 0, 0, 2]).copy(hdr, 0);
  let off = 12;
  for (const v of vlans) {
    hdr.writeUInt16BE(v, off);
    hdr.writeUInt16BE(100, off + 2);
    off += 4;
  }
  hdr.writeUInt16BE(type, off);
  return Buffer.concat([hdr, payload]);
}
