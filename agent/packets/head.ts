/**
 * The head of a sampled packet (the first BW_SAMPLE_BYTES of the frame, as
 * the kernel's sample ring gives it) read in user space: Ethernet, up to two
 * VLAN tags, IPv4 or IPv6 (with its extension headers), and the L4 header.
 * Pure; every read is bounds-checked, and a head that is cut short gives as
 * much as it holds (a source without ports, say), never an exception.
 */
import { formatAddress } from '../../contract/net/address.ts';

export interface Head {
  family: 4 | 6;
  src: string;
  dst: string;
  ttl: number;
  /** The L4 protocol number (6, 17, 1, 58, ...); 0 when the IPv6 chain could not be walked. */
  proto: number;
  frag: 'none' | 'first' | 'later';
  sport?: number;
  dport?: number;
  tcpFlags?: number;
  /** Where the L4 payload starts in the data (absent: the L4 header is not in the head). */
  payload?: number;
}

const ETH_IP = 0x0800,
  ETH_IP6 = 0x86dd,
  VLAN = [0x8100, 0x88a8];
const EXT6 = new Set([0, 43, 60, 135, 51, 44]); // hop-by-hop, routing, destination, mobility, AH, fragment

export function parseHead(d: Buffer): Head | null {
  if (d.length < 14) return null;
  let at = 12;
  let type = d.readUInt16BE(at);
  at += 2;
  for (let i = 0; i < 2 && VLAN.includes(type) && d.length >= at + 4; i++) {
    type = d.readUInt16BE(at + 2);
    at += 4;
  }
  if (type === ETH_IP) return ipv4(d, at);
  if (type === ETH_IP6) return ipv6(d, at);
  return null;
}

function ipv4(d: Buffer, at: number): Head | null {
  if (d.length < at + 20 || d[at]! >> 4 !== 4) return null;
  const ihl = (d[at]! & 0x0f) * 4;
  const fragField = d.readUInt16BE(at + 6);
  const h: Head = {
    family: 4,
    src: formatAddress([...d.subarray(at + 12, at + 16)]),
    dst: formatAddress([...d.subarray(at + 16, at + 20)]),
    ttl: d[at + 8]!,
    proto: d[at + 9]!,
    frag: fragField & 0x1fff ? 'later' : fragField & 0x2000 ? 'first' : 'none',
  };
  return ihl < 20 || h.frag === 'later' ? h : l4(d, at + ihl, h);
}

function ipv6(d: Buffer, at: number): Head | null {
  if (d.length < at + 40 || d[at]! >> 4 !== 6) return null;
  const h: Head = {
    family: 6,
    src: formatAddress([...d.subarray(at + 8, at + 24)]),
    dst: formatAddress([...d.subarray(at + 24, at + 40)]),
    ttl: d[at + 7]!,
    proto: 0,
    frag: 'none',
  };
  let next = d[at + 6]!;
  at += 40;
  for (let i = 0; i < 6 && EXT6.has(next); i++) {
    if (d.length < at + 8) return h;
    if (next === 44) {
      const off = d.readUInt16BE(at + 2);
      h.frag = off & 0xfff8 ? 'later' : off & 1 ? 'first' : h.frag;
      next = d[at]!;
      at += 8;
      if (h.frag === 'later') return { ...h, proto: EXT6.has(next) ? 0 : next };
    } else {
      const len = next === 51 ? (d[at + 1]! + 2) * 4 : (d[at + 1]! + 1) * 8;
      next = d[at]!;
      at += len;
    }
  }
  if (EXT6.has(next)) return h;
  h.proto = next;
  return l4(d, at, h);
}

function l4(d: Buffer, at: number, h: Head): Head {
  if (h.proto === 6 && d.length >= at + 20) {
    const doff = (d[at + 12]! >> 4) * 4;
    return {
      ...h,
      sport: d.readUInt16BE(at),
      dport: d.readUInt16BE(at + 2),
      tcpFlags: d[at + 13]!,
      ...(doff >= 20 ? { payload: at + doff } : {}),
    };
  }
  if (h.proto === 17 && d.length >= at + 8) return { ...h, sport: d.readUInt16BE(at), dport: d.readUInt16BE(at + 2), payload: at + 8 };
  if ((h.proto === 1 || h.proto === 58) && d.length >= at + 8) return { ...h, payload: at + 8 };
  return h;
}
