/**
 * The lines of an ip-location-db "num" CSV file, `start,end,CC`: the range's
 * inclusive ends as decimal integers (up to 128 bits) and a two-letter code.
 * The file is read in chunks and parsed byte by byte, so reading holds no
 * copy of its text (36 MB for the shipped database) and allocates nothing
 * per line; each number is handed over as four 32-bit words, most
 * significant first. Errors name the file and the line.
 */
import fs from 'node:fs';
import path from 'node:path';

const CHUNK = 1 << 20;
const TWO32 = 4294967296;
const POW10 = [1, 10, 100, 1_000, 10_000, 100_000, 1_000_000];

/** One line; the arrays are reused for the next line. */
export type Row = (start: Float64Array, end: Float64Array, code: string) => void;

function eachChunk(file: string, fn: (chunk: Buffer) => void): void {
  const fd = fs.openSync(file, 'r');
  try {
    const buf = Buffer.allocUnsafe(CHUNK);
    for (let n = fs.readSync(fd, buf, 0, CHUNK, null); n > 0; n = fs.readSync(fd, buf, 0, CHUNK, null)) fn(buf.subarray(0, n));
  } finally {
    fs.closeSync(fd);
  }
}

/** Lines in the file (an upper bound on its rows, to size the arrays). */
export function countLines(file: string): number {
  let lines = 1;
  eachChunk(file, (chunk) => {
    for (let at = chunk.indexOf(10); at >= 0; at = chunk.indexOf(10, at + 1)) lines++;
  });
  return lines;
}

/** w = w * 10^k + d on four 32-bit words (k <= 6 keeps every product exact); false past 128 bits. */
function mulAdd(w: Float64Array, k: number, d: number): boolean {
  const m = POW10[k]!;
  let carry = d;
  for (let j = 3; j >= 0; j--) {
    const v = w[j]! * m + carry;
    carry = Math.floor(v / TWO32);
    w[j] = v - carry * TWO32;
  }
  return carry === 0;
}

/** One file's parse: the line so far. Digits are gathered six at a time before they meet the words. */
class Parser {
  line = 1;
  private readonly ends = [new Float64Array(4), new Float64Array(4)] as const;
  private readonly names = new Map<number, string>(); // two letters -> one string, not one per line
  private field = 0;
  private digits = 0;
  private acc = 0;
  private pending = 0;
  private code = 0;
  private letters = 0;

  constructor(private readonly row: Row) {}

  feed(chunk: Buffer): void {
    for (let i = 0; i < chunk.length; i++) {
      const b = chunk[i]!;
      if (b >= 48 && b <= 57 && this.field < 2) {
        if (++this.digits > 39) throw new Error('number out of range');
        this.acc = this.acc * 10 + b - 48;
        if (++this.pending === 6) this.fold();
      } else if (b === 44 && this.field < 2 && this.digits > 0) {
        this.fold();
        this.field++;
        this.digits = 0;
      } else if (b === 10) {
        this.endLine();
        this.line++;
      } else if (this.field === 2 && this.letters < 2 && b > 32 && b < 127) {
        this.code = (this.code << 8) | b;
        this.letters++;
      } else if (b !== 13) {
        throw new Error(`unexpected ${JSON.stringify(String.fromCharCode(b))}`);
      }
    }
  }

  private fold(): void {
    if (this.pending > 0 && !mulAdd(this.ends[this.field]!, this.pending, this.acc)) throw new Error('number out of range');
    this.acc = this.pending = 0;
  }

  /** Ends a line (at a newline, or at the end of the file); an empty one is skipped. */
  endLine(): void {
    if (this.field === 0 && this.digits === 0) return;
    this.fold();
    if (this.field !== 2 || this.letters !== 2) throw new Error('expected start,end,CC');
    let cc = this.names.get(this.code);
    if (cc === undefined) {
      cc = String.fromCharCode(this.code >> 8, this.code & 0xff);
      this.names.set(this.code, cc);
    }
    const [s, e] = this.ends;
    this.row(s, e, cc);
    s.fill(0);
    e.fill(0);
    this.field = this.digits = this.code = this.letters = 0;
  }
}

/** Calls `row` for each line of the file, in order. */
export function readRows(file: string, row: Row): void {
  const p = new Parser(row);
  try {
    eachChunk(file, (chunk) => p.feed(chunk));
    p.endLine();
  } catch (e) {
    throw new Error(`${path.basename(file)}:${p.line}: ${(e as Error).message}`);
  }
}
