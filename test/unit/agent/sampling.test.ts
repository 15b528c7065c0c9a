// Adaptive talker sampling (agent/sampling.ts): the period follows the rate,
// rises at once, falls only after the lower period has held for a while.
import test from 'ava';
import { DEFAULT_SAMPLING, onceWeight, periodFor, TalkerSampling } from '../../../agent/sampling.ts';

const o = DEFAULT_SAMPLING;

test('the period samples about targetPerSec packets a second, a power of two in 1..64', (t) => {
  t.is(periodFor(0, o), 1);
  t.is(periodFor(4_096, o), 1);
  t.is(periodFor(4_097, o), 2);
  t.is(periodFor(10_000, o), 4); // 2,500 samples a second
  t.is(periodFor(100_000, o), 32);
  t.is(periodFor(14_000_000, o), 64);
  for (const pps of [1_000, 20_000, 200_000]) {
    const p = periodFor(pps, o);
    t.true(pps / p <= o.targetPerSec && (p === 1 || pps / (p / 2) > o.targetPerSec), `${pps} pps -> ${p}`);
  }
});

test('a rise applies on the first tick of a flood', (t) => {
  const s = new TalkerSampling(1);
  t.is(s.next(1_000, 0), 1);
  t.is(s.next(200_000, 100), 64);
});

test('a fall waits until the lower period has been enough for lowerAfterMs', (t) => {
  const s = new TalkerSampling(64);
  t.is(s.next(1_000, 0), 64);
  t.is(s.next(1_000, 500), 64);
  t.is(s.next(1_000, 999), 64);
  t.is(s.next(1_000, 1_000), 1);
});

test('a pulse back up restarts the wait for a fall', (t) => {
  const s = new TalkerSampling(64);
  s.next(1_000, 0);
  t.is(s.next(500_000, 600), 64);
  t.is(s.next(1_000, 700), 64);
  t.is(s.next(1_000, 1_600), 64);
  t.is(s.next(1_000, 1_700), 1);
});

test('set() records the new period and the next change starts from it', (t) => {
  const s = new TalkerSampling(1);
  s.set(s.next(50_000, 0));
  t.is(s.period, 16);
  t.is(s.next(50_000, 100), 16);
});

test('windowMax keeps the largest period of the talker window until rotate()', (t) => {
  const s = new TalkerSampling(1);
  t.is(s.windowMax, 1);
  s.set(16);
  s.set(4);
  t.is(s.windowMax, 16, 'a count admitted at 16 still weighs 16 x admit this window');
  s.rotate();
  t.is(s.windowMax, 4);
});

test('a source seen once weighs period x admit, or 1 when every packet is counted', (t) => {
  t.is(onceWeight(64, 4), 256);
  t.is(onceWeight(4, 4), 16);
  t.is(onceWeight(1, 4), 1);
});
