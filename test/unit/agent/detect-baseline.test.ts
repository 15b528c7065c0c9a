// Thresholds (static, server baseline, own baseline, cold), the rolling
// baseline's statistics and persistence, and slow ramps that must not alarm.
import test from 'ava';
import { emptyBaseline, learnSecond, mean, parseBaseline, quantile } from '../../../agent/detect/baseline.ts';
import { computeThresholds, DEFAULT_TUNING, Detector } from '../../../agent/detect/index.ts';
import { type Component, normal, run } from './traffic.ts';

const tuning = { ...DEFAULT_TUNING };

test('static threshold alone; cold values where nothing else exists', (t) => {
  const thr = computeThresholds({ ppsThreshold: 50_000 }, tuning, emptyBaseline());
  t.deepEqual(thr, { pps: 50_000, bps: tuning.coldBps, ppsSource: 'static' });
  t.deepEqual(computeThresholds({}, tuning, emptyBaseline()), { pps: tuning.coldPps, bps: tuning.coldBps, ppsSource: 'cold' });
});

test('server baseline: 3 x p99 with a floor, and the lower of static and dynamic', (t) => {
  const b = { mean_pps: 3_400, p99_pps: 12_000 };
  t.is(computeThresholds({ serverBaseline: b }, tuning, emptyBaseline()).pps, 36_000);
  const both = computeThresholds({ ppsThreshold: 50_000, serverBaseline: b }, tuning, emptyBaseline());
  t.is(both.pps, 36_000);
  t.is(both.ppsSource, 'server-baseline');
  t.is(computeThresholds({ ppsThreshold: 20_000, serverBaseline: b }, tuning, emptyBaseline()).ppsSource, 'static');
  t.is(computeThresholds({ serverBaseline: { mean_pps: 10, p99_pps: 40 } }, tuning, emptyBaseline()).pps, tuning.floorPps);
});

test("modes: 'static' takes the operator's values alone, 'dynamic' caps the baseline's with them; the node's floor", (t) => {
  const b = { mean_pps: 3_400, p99_pps: 12_000 }; // dynamic 36,000 pps
  const base = { serverBaseline: b };
  t.like(computeThresholds({ ...base, ppsThreshold: 50_000, mode: 'static' }, tuning, emptyBaseline()), {
    pps: 50_000,
    ppsSource: 'static',
  });
  t.like(computeThresholds({ ...base, ppsThreshold: 50_000, mode: 'dynamic' }, tuning, emptyBaseline()), { pps: 36_000 });
  t.like(
    computeThresholds({ ...base, mode: 'static' }, tuning, emptyBaseline()),
    { pps: 36_000, ppsSource: 'server-baseline' },
    'no static value: the baseline',
  );
  t.is(computeThresholds({ bpsThreshold: 2e9, mode: 'static' }, tuning, emptyBaseline()).bps, 2e9);
  // A host whose normal traffic is 200 pps: the floor of 5,000 keeps the dynamic path from acting under it; the node's own floor does.
  const quiet = { serverBaseline: { mean_pps: 150, p99_pps: 200 } };
  t.is(computeThresholds(quiet, tuning, emptyBaseline()).pps, 5_000);
  t.is(computeThresholds({ ...quiet, floorPps: 500 }, tuning, emptyBaseline()).pps, 600, '3 x p99 over the floor');
  t.is(computeThresholds({ ...quiet, floorPps: 1_000 }, tuning, emptyBaseline()).pps, 1_000);
});

test('own baseline is used only once warm, for pps and bps', (t) => {
  const own = emptyBaseline();
  for (let i = 0; i < 299; i++) learnSecond(own, 4_000, 100e6, 1_000, 3_600_000);
  t.is(computeThresholds({}, tuning, own).ppsSource, 'cold');
  learnSecond(own, 4_000, 100e6, 1_000, 3_600_000);
  const thr = computeThresholds({}, tuning, own);
  t.is(thr.ppsSource, 'own-baseline');
  // 3 x p99, the p99 rounded up to its 10% bucket
  t.true(thr.pps >= 12_000 && thr.pps <= 13_200, `${thr.pps}`);
  t.true(thr.bps >= 300e6 && thr.bps <= 330e6, `${thr.bps}`);
});

test('baseline mean and quantiles of a known series', (t) => {
  const b = emptyBaseline();
  for (let i = 1; i <= 1000; i++) learnSecond(b, i, i * 1000, 1_000, 1e15);
  t.true(Math.abs(mean(b.pps) - 500.5) < 0.01);
  const p99 = quantile(b.pps, 0.99);
  t.true(p99 >= 990 && p99 <= 990 * 1.1, `${p99}`);
  const p50 = quantile(b.pps, 0.5);
  t.true(p50 >= 500 && p50 <= 550, `${p50}`);
});

test('old traffic decays out of the baseline', (t) => {
  const b = emptyBaseline();
  for (let i = 0; i < 3_600; i++) learnSecond(b, 10_000, 0, 1_000, 600_000);
  t.true(quantile(b.pps, 0.99) >= 10_000);
  // Six half-lives later the old hour still weighs 1.5% (> 1%), twelve later nothing.
  for (let i = 0; i < 3_600; i++) learnSecond(b, 1_000, 0, 1_000, 600_000);
  t.true(quantile(b.pps, 0.99) >= 10_000);
  for (let i = 0; i < 3_600; i++) learnSecond(b, 1_000, 0, 1_000, 600_000);
  t.true(quantile(b.pps, 0.99) < 1_200);
});

test('saved state round-trips; corrupt state is refused', (t) => {
  const b = emptyBaseline();
  learnSecond(b, 5, 6, 1_000, 1_000);
  t.deepEqual(parseBaseline(JSON.parse(JSON.stringify(b))), b);
  t.is(parseBaseline({ ...b, version: 2 }), null);
  t.is(parseBaseline({ ...b, pps: { ...b.pps, weights: [1, 2] } }), null);
  t.is(parseBaseline('nope'), null);
});

const fast = { baselineWarmupSeconds: 60, floorPps: 1_000, floorBps: 1_000_000 };

test('the detector keeps its baseline across a restart', (t) => {
  const a = new Detector({ tuning: fast });
  run(a, 0, 120_000, () => normal(3_000));
  const before = a.thresholds();
  t.is(before.ppsSource, 'own-baseline');
  const b = new Detector({ tuning: fast }, JSON.parse(JSON.stringify(a.exportState())));
  t.deepEqual(b.thresholds(), before);
  t.is(new Detector({ tuning: fast }, { baseline: 'garbage' }).thresholds().ppsSource, 'cold');
});

test('attack traffic is not learned into the baseline', (t) => {
  const d = new Detector({ tuning: fast });
  run(d, 0, 120_000, () => normal(3_000));
  const before = d.thresholds().pps;
  const flood: Component = { pps: 200_000, proto: 'udp', bytes: 100 };
  const evs = run(d, 120_000, 300_000, () => [...normal(3_000), flood]);
  t.is(evs[0]?.type, 'opened');
  run(d, 300_000, 320_000, () => normal(3_000));
  t.false(d.active);
  t.is(d.thresholds().pps, before);
});

test('a slow ramp (4x over 20 minutes) is followed by the own baseline and never alarms', (t) => {
  const d = new Detector({ tuning: fast });
  run(d, 0, 120_000, () => normal(2_000));
  const evs = run(d, 120_000, 1_320_000, (tt) => normal(2_000 * (1 + (3 * (tt - 120_000)) / 1_200_000)));
  t.deepEqual(evs, []);
  t.true(d.thresholds().pps > 3 * 7_000);
});

test('control: the same rise as a step does alarm', (t) => {
  const d = new Detector({ tuning: fast });
  run(d, 0, 120_000, () => normal(2_000));
  const evs = run(d, 120_000, 130_000, () => normal(8_000));
  t.is(evs[0]?.type, 'opened');
});

test('a ramp to just under a static threshold, with noise, never alarms', (t) => {
  const d = new Detector({ ppsThreshold: 10_000 });
  const noise = (tt: number) => 1 + 0.05 * Math.sin(tt / 700);
  const evs = run(d, 0, 600_000, (tt) => normal((2_000 + (7_000 * tt) / 600_000) * noise(tt)));
  t.deepEqual(evs, []);
  t.deepEqual(run(d, 600_000, 610_000, () => normal(12_000))[0]?.type, 'opened');
});
