/**
 * The country table: the database's ranges as sorted range starts in typed
 * arrays, one country index per start (0: no country, for the gaps between
 * ranges), found by binary search. IPv4 starts are 32-bit numbers. An IPv6
 * start is kept as its upper 64 bits (two words), since nearly every range of
 * the database begins and ends on a /64; the few that start inside a /64 keep
 * their lower 64 bits in a small side table. About 5 bytes per IPv4 range and
 * 9 per IPv6 range: docs/geo.md has the figures.
 */

export interface TableParts {
  /** Country codes by index; index 0 is '' (no country). */
  codes: readonly string[];
  starts4: Uint32Array;
  cc4: Uint8Array;
  /** Upper 64 bits of each IPv6 start: words 0 and 1 at [2i], [2i + 1]. */
  hi6: Uint32Array;
  cc6: Uint8Array;
  /** IPv6 starts whose lower 64 bits are not zero: entry index -> [word 2, word 3]. */
  lo6: ReadonlyMap<number, readonly [number, number]>;
}

export class CountryTable {
  constructor(readonly parts: TableParts) {}

  get ranges4(): number {
    return this.parts.starts4.length;
  }

  get ranges6(): number {
    return this.parts.cc6.length;
  }

  /** Bytes held by the arrays (their buffers, with any slack). */
  get bytes(): number {
    const p = this.parts;
    const held = [p.starts4, p.cc4, p.hi6, p.cc6].reduce((n, a) => n + a.buffer.byteLength, 0);
    return held + p.lo6.size * 16;
  }

  /** Country index of an IPv4 address (an unsigned 32-bit number); 0 when it has none. */
  index4(addr: number): number {
    const s = this.parts.starts4;
    let lo = 0,
      hi = s.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (s[mid]! <= addr) lo = mid + 1;
      else hi = mid;
    }
    return lo === 0 ? 0 : this.parts.cc4[lo - 1]!;
  }

  /** Country index of an IPv6 address given as four 32-bit words, most significant first; 0 when it has none. */
  index6(w0: number, w1: number, w2: number, w3: number): number {
    const { hi6, lo6, cc6 } = this.parts;
    let lo = 0,
      hi = cc6.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const a = hi6[2 * mid]!;
      if (a < w0 || (a === w0 && hi6[2 * mid + 1]! <= w1)) lo = mid + 1;
      else hi = mid;
    }
    // lo - 1 is the last start whose upper 64 bits are <= the address's; starts
    // inside that same /64 that lie above the address do not cover it.
    let i = lo - 1;
    while (i >= 0 && hi6[2 * i] === w0 && hi6[2 * i + 1] === w1) {
      const low = lo6.get(i);
      if (!low || low[0] < w2 || (low[0] === w2 && low[1] <= w3)) break;
      i--;
    }
    return i < 0 ? 0 : cc6[i]!;
  }

  code(index: number): string | null {
    return index === 0 ? null : (this.parts.codes[index] ?? null);
  }
}
