// The detector's surge path: one tick far over the threshold opens at once,
// when it lasts at least surgeMs and follows an earlier tick; the agent's
// surge watch cuts such a tick out of a flood's first tens of ms. Threshold:
// static 10 000 pps, as in detect-lifecycle.test.ts.
import test from 'ava';
import { Detector } from '../../../agent/detect/index.ts';
import type { DetectorEvent } from '../../../agent/detect/types.ts';
import { type Component, normal, run, sample } from './traffic.ts';

const cfg = { ppsThreshold: 10_000, bpsThreshold: 10_000_000_000 };
const udp = (pps: number): Component => ({ pps, proto: 'udp', bytes: 120, ttl: [50, 51, 52], distinct: 50 });
const warm = (d: Detector) => run(d, 0, 30_000, () => normal(2_000));
const opened = (evs: DetectorEvent[]) => evs.filter((e) => e.type === 'opened');

/** The surge watch's two extra ticks: the calm part up to `cutAt`, then `ms` of flood alone. */
function cutTicks(d: Detector, flood: number, cutAt: number, ms: number): DetectorEvent[] {
  return [
    ...d.push(sample(cutAt, [...normal(2_000), udp(flood * 0.05)], cutAt - 30_000)),
    ...d.push(sample(cutAt + ms, [...normal(2_000), udp(flood)], ms)),
  ];
}

test('a 30 ms tick at 20x opens on itself, 30 ms after the cut', (t) => {
  const d = new Detector(cfg);
  t.deepEqual(warm(d), []);
  const o = opened(cutTicks(d, 200_000, 30_060, 30))[0];
  t.truthy(o);
  t.is(o!.atMs, 30_090);
  t.is(o!.incident.attack_family, 'udp_flood');
  t.is(o!.incident.severity, 'critical');
});

test('a 30 ms tick under the surge ratio (5x) does not open at once', (t) => {
  const d = new Detector(cfg);
  warm(d);
  t.deepEqual(cutTicks(d, 50_000, 30_060, 30), []);
});

test('a tick at 20x shorter than surgeMs (10 ms) does not open by itself', (t) => {
  const d = new Detector(cfg);
  warm(d);
  t.deepEqual(cutTicks(d, 200_000, 30_060, 10), []);
});

test('a whole 100 ms tick at 8x opens on it, where the fast path would wait 200 ms', (t) => {
  const d = new Detector(cfg);
  warm(d);
  const o = opened(run(d, 30_000, 30_300, () => [...normal(2_000), udp(78_000)]))[0];
  t.is(o?.atMs, 30_100);
});

test('after a gap, the first tick at 20x does not open: no earlier tick to compare with', (t) => {
  const d = new Detector(cfg);
  warm(d);
  t.deepEqual(d.push(sample(40_000, [...normal(2_000), udp(200_000)])), []);
  t.is(opened(d.push(sample(40_100, [...normal(2_000), udp(200_000)]))).length, 1);
});

test('the 2x behaviour is kept: a 2x spike of 500 ms does not open', (t) => {
  const d = new Detector(cfg);
  warm(d);
  t.deepEqual(
    run(d, 30_000, 31_000, (tt) => (tt <= 30_500 ? normal(20_000) : normal(2_000))),
    [],
  );
});
