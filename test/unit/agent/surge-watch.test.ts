// The surge watch (agent/packets/surge.ts): from the kernel's samples as they
// arrive, two extra ticks when the rate is far over the threshold; nothing
// for calm traffic, a rise under the ratio, a disarmed watch, or within the
// quiet time after a trigger.
import test from 'ava';
import { SurgeWatch } from '../../../agent/packets/surge.ts';
import type { PacketSample } from '../../../agent/packets/types.ts';

/** `n` samples of `length` bytes, evenly from `from` at `pps` (as the kernel takes them, before the period). */
function samples(from: number, n: number, pps: number, length = 100): PacketSample[] {
  return Array.from({ length: n }, (_, i) => ({
    monoNs: 0n,
    wallMs: 0,
    atMs: from + (i * 1000) / pps,
    length,
    verdict: 'pass',
    data: Buffer.alloc(0),
    head: null,
  }));
}

function watch(period = 1, armed = true) {
  const ticks: number[] = [];
  const w = new SurgeWatch((d) => ticks.push(d));
  w.update({ pps: 500, bps: 1e9, period, armed });
  return { w, ticks };
}

test('a flood at 20x the threshold: a tick at once and one 30 ms later, within its first 32 samples', (t) => {
  const { w, ticks } = watch();
  w.onSamples(samples(0, 20, 50)); // calm: 50 pps
  t.deepEqual(ticks, []);
  w.onSamples(samples(1_000, 32, 10_000));
  t.deepEqual(ticks, [0, 30]);
  t.is(w.fired, 1);
});

test('calm traffic and a rise to 5x (under the ratio of 6) ask for nothing', (t) => {
  const { w, ticks } = watch();
  w.onSamples(samples(0, 200, 200));
  w.onSamples(samples(2_000, 200, 2_500));
  t.deepEqual(ticks, []);
});

test('the sample period weighs each sample: 1 in 8 at 500 pps of samples is 4,000 pps, over 6 x 500', (t) => {
  const calm = watch(1);
  calm.w.onSamples(samples(0, 64, 500));
  t.deepEqual(calm.ticks, [], 'period 1: 500 pps');
  const sampled = watch(8);
  sampled.w.onSamples(samples(0, 64, 500));
  t.deepEqual(sampled.ticks, [0, 30], 'period 8: 4,000 pps');
});

test('the bit rate counts too: 6,000 pps of 1,500-byte packets (72 Mbit/s) against a 10 Mbit/s threshold', (t) => {
  const ticks: number[] = [];
  const w = new SurgeWatch((d) => ticks.push(d));
  w.update({ pps: 100_000, bps: 10_000_000, period: 1, armed: true });
  w.onSamples(samples(0, 64, 2_000, 1_500));
  t.deepEqual(ticks, [], '24 Mbit/s is under 6 x 10');
  w.onSamples(samples(100, 64, 6_000, 1_500));
  t.deepEqual(ticks, [0, 30]);
});

test('disarmed while an incident is open', (t) => {
  const { w, ticks } = watch(1, false);
  w.onSamples(samples(0, 64, 20_000));
  t.deepEqual(ticks, []);
});

test('after a trigger, quiet for 40 ms, doubled for each trigger in a row up to 1 s; a fresh start after a calm', (t) => {
  const { w } = watch();
  const firedAt: number[] = [];
  // A steady surge the detector never opens on: the watch keeps asking, less and less often.
  for (let at = 0; at < 3_000; at += 5) {
    const before = w.fired;
    w.onSamples(samples(at, 64, 20_000).slice(0, 50));
    if (w.fired > before) firedAt.push(Math.round(at));
  }
  const gaps = firedAt.slice(1).map((x, i) => x - firedAt[i]!);
  t.deepEqual(gaps.slice(0, 5), [40, 80, 160, 320, 640], `triggers at ${firedAt.join(', ')}`);
  t.true(gaps.slice(5).every((g) => g >= 1_000 && g <= 1_005));
  // Two seconds without a trigger: the next waits 40 ms again.
  const last = firedAt.at(-1)!;
  w.onSamples(samples(last + 2_500, 64, 20_000));
  w.onSamples(samples(last + 2_545, 64, 20_000));
  t.is(w.fired, firedAt.length + 2);
});

test('a change of period forgets the samples of the old weight', (t) => {
  const { w, ticks } = watch(1);
  w.onSamples(samples(0, 31, 500));
  w.update({ pps: 500, bps: 1e9, period: 64, armed: true });
  w.onSamples(samples(100, 1, 500));
  t.deepEqual(ticks, [], 'one sample of weight 64 after 31 of weight 1 is no estimate');
});
