/**
 * pcapng blocks (draft-ietf-opsawg-pcapng), little-endian, one interface:
 * the section header, the interface description (link type, snap length,
 * timestamp resolution), enhanced packet blocks and the interface statistics
 * block. Pure: each function returns the block's bytes. Times are ns since
 * the epoch (if_tsresol 9); 64-bit values are BigInt.
 */

const SHB = 0x0a0d0d0a,
  IDB = 1,
  ISB = 5,
  EPB = 6;
const BYTE_ORDER_MAGIC = 0x1a2b3c4d;
const OPT_COMMENT = 1;

export const LINKTYPE_ETHERNET = 1;
/** if_tsresol: 10^-9 s. */
export const TSRESOL_NS = 9;
/** epb_flags bits 0-1: inbound. */
export const EPB_INBOUND = 1;
/** epb_verdict type octet for a Linux XDP verdict (value: enum xdp_action). */
export const VERDICT_XDP = 2;

type Opt = [code: number, value: Buffer] | undefined;

const pad4 = (n: number) => (4 - (n % 4)) % 4;
const text = (code: number, s: string | undefined): Opt => (s ? [code, Buffer.from(s, 'utf8')] : undefined);
const u64 = (code: number, v: bigint | undefined): Opt => {
  if (v === undefined) return undefined;
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(v);
  return [code, b];
};
/** A timestamp option: high and low 32 bits, as in the EPB header. */
const ts = (code: number, ns: bigint | undefined): Opt => {
  if (ns === undefined) return undefined;
  const b = Buffer.alloc(8);
  b.writeUInt32LE(Number(ns >> 32n), 0);
  b.writeUInt32LE(Number(ns & 0xffffffffn), 4);
  return [code, b];
};

/** Options, each padded to 32 bits, closed by opt_endofopt when there are any. */
function options(list: Opt[]): Buffer {
  const present = list.filter((o): o is [number, Buffer] => o !== undefined);
  if (!present.length) return Buffer.alloc(0);
  const parts: Buffer[] = [];
  for (const [code, value] of present) {
    const h = Buffer.alloc(4);
    h.writeUInt16LE(code, 0);
    h.writeUInt16LE(value.length, 2);
    parts.push(h, value, Buffer.alloc(pad4(value.length)));
  }
  parts.push(Buffer.alloc(4)); // opt_endofopt
  return Buffer.concat(parts);
}

/** type, total length, body (padded here), total length again. */
function block(type: number, ...body: Buffer[]): Buffer {
  const len = body.reduce((n, b) => n + b.length, 0);
  const total = 12 + len + pad4(len);
  const out = Buffer.alloc(total);
  out.writeUInt32LE(type, 0);
  out.writeUInt32LE(total, 4);
  let at = 8;
  for (const b of body) at += b.copy(out, at);
  out.writeUInt32LE(total, total - 4);
  return out;
}

export function sectionHeader(o: { comment?: string; hardware?: string; os?: string; application?: string }): Buffer {
  const h = Buffer.alloc(16);
  h.writeUInt32LE(BYTE_ORDER_MAGIC, 0);
  h.writeUInt16LE(1, 4); // version 1.0
  h.writeUInt16LE(0, 6);
  h.writeBigInt64LE(-1n, 8); // section length: not given
  return block(SHB, h, options([text(OPT_COMMENT, o.comment), text(2, o.hardware), text(3, o.os), text(4, o.application)]));
}

export function interfaceDescription(o: { snapLen: number; name?: string; description?: string; os?: string }): Buffer {
  const h = Buffer.alloc(8);
  h.writeUInt16LE(LINKTYPE_ETHERNET, 0);
  h.writeUInt32LE(o.snapLen, 4);
  return block(IDB, h, options([text(2, o.name), text(3, o.description), [9, Buffer.from([TSRESOL_NS])], text(12, o.os)]));
}

export interface PacketFields {
  /** ns since the epoch. */
  timeNs: bigint;
  /** The bytes kept (at most the snap length). */
  data: Buffer;
  /** The frame's length on the wire. */
  length: number;
  /** epb_flags. */
  flags?: number;
  /** epb_verdict of type VERDICT_XDP: an XDP action (XDP_PASS 2, XDP_DROP 1). */
  xdpAction?: number;
  comment?: string;
}

/**
 * One allocation per packet (from Node's small-buffer pool): a capture
 * writes a block for each of up to thousands of samples a second.
 */
export function enhancedPacket(p: PacketFields): Buffer {
  const comment = p.comment ? Buffer.from(p.comment, 'utf8') : null;
  const dataLen = p.data.length + pad4(p.data.length);
  const opts =
    (comment ? 4 + comment.length + pad4(comment.length) : 0) + (p.flags === undefined ? 0 : 8) + (p.xdpAction === undefined ? 0 : 16);
  const total = 32 + dataLen + (opts ? opts + 4 : 0);
  const b = Buffer.allocUnsafe(total).fill(0);
  b.writeUInt32LE(EPB, 0);
  b.writeUInt32LE(total, 4);
  // interface 0 at 8
  b.writeUInt32LE(Number(p.timeNs >> 32n), 12);
  b.writeUInt32LE(Number(p.timeNs & 0xffffffffn), 16);
  b.writeUInt32LE(p.data.length, 20);
  b.writeUInt32LE(Math.max(p.length, p.data.length), 24);
  p.data.copy(b, 28);
  let at = 28 + dataLen;
  const opt = (code: number, len: number) => {
    b.writeUInt16LE(code, at);
    b.writeUInt16LE(len, at + 2);
    at += 4;
  };
  if (comment) {
    opt(OPT_COMMENT, comment.length);
    at += comment.copy(b, at) + pad4(comment.length);
  }
  if (p.flags !== undefined) {
    opt(2, 4);
    at = b.writeUInt32LE(p.flags, at);
  }
  if (p.xdpAction !== undefined) {
    opt(7, 9);
    b[at] = VERDICT_XDP;
    b.writeBigUInt64LE(BigInt(p.xdpAction), at + 1);
    at += 12;
  }
  // opt_endofopt: the zeros already there
  b.writeUInt32LE(total, total - 4);
  return b;
}

export interface Statistics {
  /** When these counts were read, and the span they cover (ns since the epoch). */
  timeNs: bigint;
  startNs?: bigint;
  endNs?: bigint;
  /** isb_ifrecv, isb_ifdrop, isb_usrdeliv. */
  received?: bigint;
  dropped?: bigint;
  delivered?: bigint;
  comment?: string;
}

export function interfaceStatistics(s: Statistics): Buffer {
  const h = Buffer.alloc(12);
  h.writeUInt32LE(0, 0);
  h.writeUInt32LE(Number(s.timeNs >> 32n), 4);
  h.writeUInt32LE(Number(s.timeNs & 0xffffffffn), 8);
  const o = options([
    text(OPT_COMMENT, s.comment),
    ts(2, s.startNs),
    ts(3, s.endNs),
    u64(4, s.received),
    u64(5, s.dropped),
    u64(8, s.delivered),
  ]);
  return block(ISB, h, o);
}
