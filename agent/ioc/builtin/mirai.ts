/**
 * Mirai's SYN and ACK floods (mirai/bot/attack_tcp.c of the published
 * source, attack_tcp_syn and attack_tcp_ack, with their default options):
 * raw IPv4 packets the bot builds itself, with traits no TCP stack sends.
 * docs/signatures.md has the derivation and the limits.
 */
import { type Packet, type Signature, TCP } from '../signature.ts';

const SYN = 0x02;
const ACK = 0x10;

/** Where the IPv4 header (IHL 5, as Mirai builds it) and the TCP header of `doff` words start, if the head bears them out. */
function headers(p: Packet, doff: number): { ip: number; tcp: number } | null {
  const tcp = p.head.payload - doff * 4;
  const ip = tcp - 20;
  const d = p.data;
  if (ip < 0 || d[ip] !== 0x45 || d[ip + 9] !== TCP) return null;
  if (d[tcp + 12] !== doff << 4 || d.readUInt16BE(tcp) !== p.head.sport || d.readUInt16BE(tcp + 2) !== p.head.dport) return null;
  return { ip, tcp };
}

/** MSS, SACK permitted, timestamps, NOP, window scale, each at its offset in attack_tcp_syn's 20 option bytes. */
function miraiSynOptions(d: Buffer, at: number): boolean {
  const mss = d.readUInt16BE(at + 2);
  return (
    d[at] === 2 &&
    d[at + 1] === 4 &&
    mss >= 1400 &&
    mss <= 1415 && // htons(1400 + (rand_next() & 0x0f))
    d[at + 4] === 4 &&
    d[at + 5] === 2 &&
    d[at + 6] === 8 &&
    d[at + 7] === 10 && // TSval at +8 is random
    d.readUInt32BE(at + 12) === 0 && // TSecr
    d[at + 16] === 1 &&
    d[at + 17] === 3 &&
    d[at + 18] === 3 &&
    d[at + 19] === 6
  );
}

export const miraiSyn: Signature = {
  attack_name: 'Mirai SYN flood',
  attack_family: 'syn_flood',
  source: 'builtin',
  botnet: 'Mirai',
  proto: TCP,
  test(p) {
    if (p.head.family !== 4 || p.head.tcpFlags !== SYN || p.data.length < p.head.payload) return false;
    const h = headers(p, 10);
    if (!h) return false;
    const d = p.data;
    // No payload; ack number, window and urgent pointer never set (the packet is calloc'd).
    if (d.readUInt16BE(h.ip + 2) !== 60 || d.readUInt32BE(h.tcp + 8) !== 0 || d.readUInt16BE(h.tcp + 14) !== 0) return false;
    return d.readUInt16BE(h.tcp + 18) === 0 && miraiSynOptions(d, h.tcp + 20);
  },
};

/** hping3's default window: `hping3 -A -d 512` has every other trait of Mirai's ACK flood. */
const HPING3_WINDOW = 512;

export const miraiAck: Signature = {
  attack_name: 'Mirai ACK flood',
  attack_family: 'unknown',
  source: 'builtin',
  botnet: 'Mirai',
  proto: TCP,
  test(p) {
    if (p.head.family !== 4 || p.head.tcpFlags !== ACK) return false;
    const h = headers(p, 5);
    if (!h) return false;
    const d = p.data;
    // 512 random payload bytes, DF clear (dont_frag defaults to FALSE here), no options, no urgent pointer.
    if (d.readUInt16BE(h.ip + 2) !== 20 + 20 + 512 || (d.readUInt16BE(h.ip + 6) & 0x4000) !== 0) return false;
    return d.readUInt16BE(h.tcp + 18) === 0 && d.readUInt16BE(h.tcp + 14) !== HPING3_WINDOW;
  },
};
