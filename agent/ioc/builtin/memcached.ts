/**
 * memcached over UDP (doc/protocol.txt, "UDP protocol"): every datagram
 * starts with an 8-byte frame header (request id, sequence number, total
 * datagrams of the message, 2 reserved bytes that must be 0), then the text
 * protocol. The amplification request is a one-datagram `stats` or `get`/
 * `gets`; the answer is `STAT ...` lines or a `VALUE <key> <flags> <bytes>`
 * block, spread over as many datagrams as it takes. A datagram past the first
 * carries the value's bytes after its frame header, so it is known by the
 * header alone (sequence below the total, reserved 0, from port 11211).
 */
import { type Packet, type Signature, startsWith, UDP } from '../signature.ts';

const MEMCACHED_PORT = 11211;
const FRAME = 8;

function frame(p: Packet): { seq: number; total: number } | null {
  const d = p.data;
  const at = p.head.payload;
  if (d.length < at + FRAME || d.readUInt16BE(at + 6) !== 0) return null;
  const seq = d.readUInt16BE(at + 2);
  const total = d.readUInt16BE(at + 4);
  return total >= 1 && seq < total ? { seq, total } : null;
}

const ascii = (s: string) => Buffer.from(s, 'latin1');
const REQUESTS = ['stats\r\n', 'stats ', 'get ', 'gets '].map(ascii);
const ANSWERS = ['VALUE ', 'STAT '].map(ascii);

export const memcachedRequest: Signature = {
  attack_name: 'memcached request (stats/get)',
  attack_family: 'udp_flood',
  source: 'builtin',
  proto: UDP,
  port: { side: 'dst', port: MEMCACHED_PORT },
  test: (p) => {
    const f = frame(p);
    return f !== null && f.seq === 0 && f.total === 1 && REQUESTS.some((r) => startsWith(p, r, FRAME));
  },
};

export const memcachedResponse: Signature = {
  attack_name: 'memcached response',
  attack_family: 'udp_flood',
  source: 'builtin',
  proto: UDP,
  port: { side: 'src', port: MEMCACHED_PORT },
  test: (p) => {
    const f = frame(p);
    if (f === null) return false;
    return f.seq > 0 || ANSWERS.some((a) => startsWith(p, a, FRAME));
  },
};
