// The estimator against registers filled the way the kernel fills them.
import test from 'ava';
import { estimateDistinct } from '../../../native/hll.ts';
import { kernelRegisters } from '../../helpers/hll.ts';

const BITS = 12;

/** n distinct sources (a seed apart between sets), as the kernel fills the registers. */
function fill(n: number, seed: number): Uint8Array {
  return kernelRegisters(Array.from({ length: n }, (_, i) => (i * 2654435761 + seed) >>> 0));
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
