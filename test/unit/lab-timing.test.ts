// The lab's neutral timing (scripts/lab/timing.ts) on synthetic readings of
// the victim's counters, every 5 ms: background, a flood, then a drop rule.
import test from 'ava';
import { between, findDrop, findOnset, type Point } from '../../scripts/lab/timing.ts';

/** 10 s of readings: 150 pps background, a 10 kpps flood from 3 000 ms, dropped (all of it) from 4 200 ms to 6 000 ms. */
function series(o: { gapAt?: number } = {}): Point[] {
  const out: Point[] = [];
  let rx = 0,
    ipIn = 0,
    carry = 0;
  for (let t = 0; t <= 10_000; t += 5) {
    if (o.gapAt !== undefined && t > o.gapAt && t < o.gapAt + 120) continue; // a stalled reader
    const flood = t > 3_000 && t <= 6_000 ? 50 : 0;
    carry += 0.75;
    const bg = Math.floor(carry);
    carry -= bg;
    rx += flood + bg;
    ipIn += (t > 4_200 ? 0 : flood) + bg;
    out.push({ t, rx, ipIn });
  }
  return out;
}

test('onset is the start of the first reading interval of the flood, not a background packet', (t) => {
  const s = series();
  t.is(findOnset(s, 1_000, 500), 3_000);
});

test('no onset while the readings do not yet cover the window after a packet', (t) => {
  const s = series().filter((p) => p.t <= 3_050);
  t.is(findOnset(s, 1_000, 500), undefined);
});

test('drop is the start of the first 50 ms window that passed at most 10%', (t) => {
  const s = series();
  const drop = findDrop(s, 2_995, 150)!;
  t.true(drop >= 4_190 && drop <= 4_205, `drop at ${drop}`);
});

test('a stalled reader does not hide the drop', (t) => {
  const s = series({ gapAt: 3_500 });
  const drop = findDrop(s, 2_995, 150)!;
  t.true(drop >= 4_190 && drop <= 4_205, `drop at ${drop}`);
});

test('no drop when the flood passes', (t) => {
  const s = series().map((p) => ({ ...p, ipIn: p.rx }));
  t.is(findDrop(s, 2_995, 150), undefined);
});

test('between counts received and dropped packets', (t) => {
  const s = series();
  const span = between(s, 3_000, 6_000);
  t.true(span.received >= 30_000 && span.received <= 30_500);
  t.true(span.dropped >= 18_000 - 100 && span.dropped <= 18_000 + 100, `dropped ${span.dropped}`);
});
