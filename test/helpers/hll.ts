// The kernel's HyperLogLog (bpf/counters.bpf.h hll_add) in TypeScript, for
// unit tests of the estimator: murmur3's 64-bit finaliser of the source
// word, the index from the top BW_HLL_BITS bits, the rank's bit (the lowest
// set bit of the next 20, a sentinel above them) ORed into the register, and
// each register read back as its rank, its highest bit, as the addon does.
const BITS = 12;
const M64 = (1n << 64n) - 1n;

export function mix64(x: bigint): bigint {
  let h = x & M64;
  h ^= h >> 33n;
  h = (h * 0xff51afd7ed558ccdn) & M64;
  h ^= h >> 33n;
  h = (h * 0xc4ceb9fe1a85ec53n) & M64;
  return h ^ (h >> 33n);
}

/** The ranks (the addon's registers) after the kernel saw each of `sources` (32-bit words). */
export function kernelRegisters(sources: Iterable<number>): Uint8Array {
  const bits = new Uint32Array(1 << BITS);
  for (const s of sources) {
    const h = mix64(BigInt(s >>> 0));
    const idx = Number(h >> BigInt(64 - BITS));
    const rest = Number((h >> 32n) & 0xffffffffn) | (1 << (32 - BITS));
    bits[idx]! |= (rest & -rest) >>> 0;
  }
  return Uint8Array.from(bits, (b) => (b ? 32 - Math.clz32(b) : 0));
}

/** first, first + 1, ..., first + n - 1. */
export function* range(first: number, n: number): Generator<number> {
  for (let i = first; i < first + n; i++) yield i;
}
