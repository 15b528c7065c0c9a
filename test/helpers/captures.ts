// Capture files for tests: classic pcap (either byte order, µs or ns
// timestamps) and pcapng, with random packet bytes.
import crypto from 'node:crypto';

/** A pcap file of `packets` records of `size` bytes (60 by default). */
export function pcap(packets: number, opts: { be?: boolean; nanos?: boolean; size?: number } = {}): Buffer {
  const size = opts.size ?? 60;
  const out = Buffer.alloc(24 + packets * (16 + size));
  const w32 = (v: number, o: number) => (opts.be ? out.writeUInt32BE(v, o) : out.writeUInt32LE(v, o));
  const w16 = (v: number, o: number) => (opts.be ? out.writeUInt16BE(v, o) : out.writeUInt16LE(v, o));
  w32(opts.nanos ? 0xa1b23c4d : 0xa1b2c3d4, 0);
  w16(2, 4);
  w16(4, 6);
  w32(0, 8);
  w32(0, 12);
  w32(65535, 16);
  w32(1, 20);
  for (let i = 0, o = 24; i < packets; i++, o += 16 + size) {
    w32(1700000000 + i, o);
    w32((i * 1000) % 1_000_000, o + 4);
    w32(size, o + 8);
    w32(size, o + 12);
    crypto.randomFillSync(out, o + 16, size);
  }
  return out;
}

/** A pcapng file: section header, one interface, `packets` enhanced packet blocks. */
export function pcapng(packets: number): Buffer {
  const block = (type: number, body: Buffer) => {
    const len = 12 + body.length + ((4 - (body.length % 4)) % 4);
    const b = Buffer.alloc(len);
    b.writeUInt32LE(type, 0);
    b.writeUInt32LE(len, 4);
    body.copy(b, 8);
    b.writeUInt32LE(len, len - 4);
    return b;
  };
  const shb = Buffer.alloc(16);
  shb.writeUInt32LE(0x1a2b3c4d, 0);
  shb.writeUInt16LE(1, 4);
  shb.writeUInt16LE(0, 6);
  shb.writeBigInt64LE(-1n, 8);
  const idb = Buffer.alloc(8);
  idb.writeUInt16LE(1, 0);
  idb.writeUInt32LE(65535, 4);
  const epbs = Array.from({ length: packets }, (_, i) => {
    const data = crypto.randomBytes(61);
    const body = Buffer.alloc(20 + 64);
    body.writeUInt32LE(0, 0);
    body.writeUInt32LE(0, 4);
    body.writeUInt32LE(i, 8);
    body.writeUInt32LE(61, 12);
    body.writeUInt32LE(61, 16);
    data.copy(body, 20);
    return block(6, body);
  });
  return Buffer.concat([block(0x0a0d0d0a, shb), block(1, idb), ...epbs]);
}
