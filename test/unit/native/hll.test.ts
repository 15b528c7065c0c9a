// The estimator against registers filled the way the kernel fills them.
import test from 'ava';
import { estimateDistinct } from '../../../native/hll.ts';

const BITS = 12;

function mix32(x: number): number {
  let h = x >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b) >>> 0;
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35) >>> 0;
  return (h ^ (h >>> 16)) >>> 0;
}

function fill(n: number, seed: number): Uint8Array {
  const reg = new Uint8Array(1 << BITS);
  for (let i = 0; i < n; i++) {
    const h = mix32(i * 2654435761 + seed);
    const idx = h >>> (32 - BITS);
    const rest = ((h << BITS) | (1 << (BITS - 1))) >>> 0;
    const rank = Math.clz32(rest) + 1;
    if (reg[idx]! < rank) reg[idx] = rank;
  }
  return reg;
}

test('empty registers estimate zero', (t) => {
  t.is(estimateDistinct(new Uint8Array(1 << BITS)), 0);
});

for (const n of [10, 1000, 20_000, 500_000]) {
  test(`${n} distinct values within 5%`, (t) => {
    const est = estimateDistinct(fill(n, 7));
    t.true(Math.abs(est - n) / n < 0.05, `estimate ${est}`);
  });
}

test('duplicates do not count twice', (t) => {
  const once = estimateDistinct(fill(5000, 1));
  const reg = fill(5000, 1);
  const again = fill(5000, 1);
  for (let i = 0; i < reg.length; i++) reg[i] = Math.max(reg[i]!, again[i]!);
  t.is(estimateDistinct(reg), once);
});
