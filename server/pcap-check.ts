// Streaming check that a file is a well-formed pcap or pcapng capture: the
// magic number, then every record (pcap) or block (pcapng) header, up to the
// last byte. push() chunks as they arrive; end() gives the verdict. Memory use
// is a few bytes whatever the file size: record bodies are skipped, not kept.
//
// pcap: 24-byte global header (magic a1b2c3d4 µs or a1b23c4d ns, either byte
// order, version 2.x), then records of a 16-byte header (ts_sec, ts_frac,
// incl_len, orig_len) and incl_len bytes; incl_len <= snaplen (or 256 KiB).
// pcapng: blocks of (type, total_length, body, total_length), lengths a
// multiple of 4 and >= 12, the first a Section Header Block whose byte-order
// magic 1a2b3c4d gives the endianness of its section.
import type { PcapFormat } from '../contract/enums.ts';

export type Format = PcapFormat;
export interface Verdict {
  format: Format;
  packets: number;
}

const PCAPNG_SHB = 0x0a0d0d0a;
const MAX_RECORD = 256 * 1024;
const MAX_BLOCK = 16 * 1024 * 1024;
const PACKET_BLOCKS = new Set([2, 3, 6]); // obsolete packet, simple packet, enhanced packet

export class PcapCheck {
  format: Format | null = null;
  packets = 0;
  private buf: Buffer = Buffer.alloc(0);
  private skip = 0; // body bytes still to skip
  private le = true;
  private snaplen = MAX_RECORD;
  private nanos = false;
  private error: string | null = null;
  private offset = 0; // bytes consumed, for messages
  private blockLen = 0; // pcapng: length of the block whose trailer we await

  /** Feeds the next chunk; returns an error message as soon as the file is known to be bad. */
  push(chunk: Buffer): string | null {
    if (this.error) return this.error;
    let data = chunk;
    if (this.skip > 0) {
      const n = Math.min(this.skip, data.length);
      this.skip -= n;
      this.offset += n;
      data = data.subarray(n);
      if (data.length === 0) return null;
    }
    this.buf = this.buf.length ? Buffer.concat([this.buf, data]) : data;
    while (!this.error) {
      const need = this.step();
      if (need === 0) continue;
      break;
    }
    return this.error;
  }

  end(): { error: string } | Verdict {
    if (this.error) return { error: this.error };
    if (this.format === null) return { error: 'not a pcap or pcapng file (too short for a header)' };
    if (this.skip > 0 || this.buf.length > 0 || this.blockLen > 0) {
      return { error: `truncated ${this.format} file: the last record ends past the end of the file` };
    }
    if (this.packets === 0) return { error: `${this.format} file holds no packets` };
    return { format: this.format, packets: this.packets };
  }

  private fail(msg: string): number {
    this.error = msg;
    return 1;
  }

  private take(n: number): Buffer | null {
    if (this.buf.length < n) return null;
    const out = this.buf.subarray(0, n);
    this.buf = this.buf.subarray(n);
    this.offset += n;
    return out;
  }

  /** Consumes what it can; 0 means "call again", 1 means "need more bytes". */
  private step(): number {
    if (this.skip > 0) {
      const n = Math.min(this.skip, this.buf.length);
      this.skip -= n;
      this.offset += n;
      this.buf = this.buf.subarray(n);
      return this.skip > 0 ? 1 : 0;
    }
    if (this.format === null) return this.header();
    return this.format === 'pcap' ? this.pcapRecord() : this.pcapngBlock();
  }

  private header(): number {
    if (this.buf.length < 4) return 1;
    const be = this.buf.readUInt32BE(0);
    if (be === PCAPNG_SHB) {
      this.format = 'pcapng';
      return 0;
    }
    const magics: Record<number, [boolean, boolean]> = {
      2712847316: [false, false],
      3569595041: [true, false],
      2712812621: [false, true],
      1295823521: [true, true],
    };
    const m = magics[be];
    if (!m) return this.fail('not a pcap or pcapng file (unknown magic number)');
    const h = this.take(24);
    if (!h) return 1;
    [this.le, this.nanos] = m;
    const major = this.le ? h.readUInt16LE(4) : h.readUInt16BE(4);
    if (major !== 2) return this.fail(`unsupported pcap version ${major}`);
    const snap = this.le ? h.readUInt32LE(16) : h.readUInt32BE(16);
    this.snaplen = snap > 0 && snap < MAX_RECORD ? snap : MAX_RECORD;
    this.format = 'pcap';
    return 0;
  }

  private pcapRecord(): number {
    const at = this.offset;
    const h = this.take(16);
    if (!h) return 1;
    const u32 = (o: number) => (this.le ? h.readUInt32LE(o) : h.readUInt32BE(o));
    const frac = u32(4);
    const incl = u32(8);
    const orig = u32(12);
    if (frac >= (this.nanos ? 1e9 : 1e6))
      return this.fail(`bad pcap record header at byte ${at}: fractional timestamp ${frac} out of range`);
    if (incl > this.snaplen)
      return this.fail(`bad pcap record header at byte ${at}: captured length ${incl} exceeds snaplen ${this.snaplen}`);
    if (orig < incl) return this.fail(`bad pcap record header at byte ${at}: captured length ${incl} exceeds original length ${orig}`);
    this.packets++;
    this.skip = incl;
    return 0;
  }

  private pcapngBlock(): number {
    if (this.blockLen > 0) {
      const t = this.take(4);
      if (!t) return 1;
      const trailer = this.le ? t.readUInt32LE(0) : t.readUInt32BE(0);
      if (trailer !== this.blockLen)
        return this.fail(`bad pcapng block ending at byte ${this.offset}: trailing length ${trailer} != ${this.blockLen}`);
      this.blockLen = 0;
      return 0;
    }
    if (this.buf.length < 12) return 1;
    const at = this.offset;
    const typeBE = this.buf.readUInt32BE(0);
    if (typeBE === PCAPNG_SHB) {
      const bom = this.buf.readUInt32BE(8);
      if (bom === 0x1a2b3c4d) this.le = false;
      else if (bom === 0x4d3c2b1a) this.le = true;
      else return this.fail(`bad pcapng section header at byte ${at}: byte-order magic ${bom.toString(16)}`);
    } else if (at === 0) {
      return this.fail('pcapng file does not start with a section header block');
    }
    const type = this.le ? this.buf.readUInt32LE(0) : typeBE;
    const len = this.le ? this.buf.readUInt32LE(4) : this.buf.readUInt32BE(4);
    if (len < 12 || len % 4 !== 0 || len > MAX_BLOCK) return this.fail(`bad pcapng block header at byte ${at}: length ${len}`);
    this.take(8);
    if (PACKET_BLOCKS.has(type)) this.packets++;
    this.blockLen = len;
    this.skip = len - 12;
    return 0;
  }
}

/** Checks a whole buffer (tests, small files). */
export function checkCapture(data: Buffer): { error: string } | Verdict {
  const c = new PcapCheck();
  c.push(data);
  return c.end();
}
