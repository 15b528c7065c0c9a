/**
 * Builds a CountryTable from ranges given in ascending order (start and end
 * inclusive, as the database lists them): each range is one start, and a gap
 * before the next range (or after the last) one more start with country 0.
 * Ranges out of order or overlapping are refused, since the binary search
 * relies on the order. The arrays are sized from the expected number of
 * ranges and grow only if the gaps need more.
 */
import { CountryTable } from './table.ts';

const MAX_CODES = 255; // a country index is a byte; 0 is "none"
const LAST4 = 0xffffffff;
const SLACK = 256;

function grown<T extends Uint32Array | Uint8Array>(a: T, need: number): T {
  if (need <= a.length) return a;
  const b = new (a.constructor as new (n: number) => T)(Math.max(need, a.length * 2));
  b.set(a);
  return b;
}

type Words = ArrayLike<number>;

const cmp6 = (a: Words, b: Words): number => {
  for (let k = 0; k < 4; k++) if (a[k] !== b[k]) return a[k]! < b[k]! ? -1 : 1;
  return 0;
};

/** w += 1 in place; false when it wraps past the last address. */
function increment(w: Float64Array): boolean {
  for (let k = 3; k >= 0; k--) {
    if (w[k] !== LAST4) {
      w[k]! += 1;
      return true;
    }
    w[k] = 0;
  }
  return false;
}

export class TableBuilder {
  private readonly codes: string[] = [''];
  private readonly index = new Map<string, number>();
  private starts4: Uint32Array;
  private cc4: Uint8Array;
  private n4 = 0;
  private next4: number | null = 0;
  private hi6: Uint32Array;
  private cc6: Uint8Array;
  private readonly lo6 = new Map<number, readonly [number, number]>();
  private n6 = 0;
  /** Where the next IPv6 range may start (the last one's end + 1); null past the last address. */
  private readonly next6 = new Float64Array(4);
  private full6 = false;

  constructor(expected4 = 0, expected6 = 0) {
    // Room for a few gaps beyond the ranges, so that a real database rarely grows its arrays.
    this.starts4 = new Uint32Array(expected4 + SLACK);
    this.cc4 = new Uint8Array(expected4 + SLACK);
    this.hi6 = new Uint32Array(2 * (expected6 + SLACK));
    this.cc6 = new Uint8Array(expected6 + SLACK);
  }

  private codeIndex(code: string): number {
    let i = this.index.get(code);
    if (i === undefined) {
      if (!/^[A-Z]{2}$/.test(code)) throw new Error(`country code must be two capital letters, got '${code}'`);
      if (this.codes.length > MAX_CODES) throw new Error(`more than ${MAX_CODES} country codes`);
      i = this.codes.push(code) - 1;
      this.index.set(code, i);
    }
    return i;
  }

  add4(start: number, end: number, code: string): void {
    if (this.next4 === null || start < this.next4 || end < start || end > LAST4) throw new Error('IPv4 ranges out of order or overlapping');
    const cc = this.codeIndex(code);
    if (start > this.next4 && this.n4 > 0) this.push4(this.next4, 0);
    this.push4(start, cc);
    this.next4 = end === LAST4 ? null : end + 1;
  }

  private push4(start: number, cc: number): void {
    this.starts4 = grown(this.starts4, this.n4 + 1);
    this.cc4 = grown(this.cc4, this.n4 + 1);
    this.starts4[this.n4] = start;
    this.cc4[this.n4++] = cc;
  }

  add6(start: Words, end: Words, code: string): void {
    if (this.full6 || cmp6(start, this.next6) < 0 || cmp6(end, start) < 0) throw new Error('IPv6 ranges out of order or overlapping');
    const cc = this.codeIndex(code);
    if (this.n6 > 0 && cmp6(start, this.next6) > 0) this.push6(this.next6, 0);
    this.push6(start, cc);
    this.next6.set(end);
    this.full6 = !increment(this.next6);
  }

  private push6(start: Words, cc: number): void {
    this.hi6 = grown(this.hi6, 2 * (this.n6 + 1));
    this.cc6 = grown(this.cc6, this.n6 + 1);
    this.hi6[2 * this.n6] = start[0]!;
    this.hi6[2 * this.n6 + 1] = start[1]!;
    if (start[2] !== 0 || start[3] !== 0) this.lo6.set(this.n6, [start[2]!, start[3]!]);
    this.cc6[this.n6++] = cc;
  }

  build(): CountryTable {
    // After the last range: a start with no country, so that what lies above it has none.
    if (this.next4 !== null && this.n4 > 0) this.push4(this.next4, 0);
    if (!this.full6 && this.n6 > 0) this.push6(this.next6, 0);
    // A view keeps a little slack unused; a copy only if growing left much more.
    const trimmed = <T extends Uint32Array | Uint8Array>(a: T, n: number): T =>
      (a.length - n <= 4 * SLACK ? a.subarray(0, n) : a.slice(0, n)) as T;
    return new CountryTable({
      codes: this.codes,
      starts4: trimmed(this.starts4, this.n4),
      cc4: trimmed(this.cc4, this.n4),
      hi6: trimmed(this.hi6, 2 * this.n6),
      cc6: trimmed(this.cc6, this.n6),
      lo6: this.lo6,
    });
  }
}
