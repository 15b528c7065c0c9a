// Opening, confirmation, updates and hysteresis of the detector, driven by
// plain tick sequences (traffic.ts). Threshold: static 10 000 pps.
import test from 'ava';
import { Detector } from '../../../agent/detect/index.ts';
import type { DetectorEvent } from '../../../agent/detect/types.ts';
import { type Component, normal, run, sample, TICK } from './traffic.ts';

const cfg = { ppsThreshold: 10_000, bpsThreshold: 10_000_000_000 };
const udp = (pps: number): Component => ({ pps, proto: 'udp', bytes: 120, ttl: [50, 51, 52], distinct: 50 });
const opened = (evs: DetectorEvent[]) => evs.filter((e) => e.type === 'opened');
const warm = (d: Detector) => run(d, 0, 30_000, () => normal(2_000));

test('a flood at 20x the threshold opens within 500 ms of its onset', (t) => {
  const d = new Detector(cfg);
  t.deepEqual(warm(d), []);
  const onset = 30_000;
  const evs = run(d, onset, 32_000, () => [...normal(2_000), udp(200_000)]);
  const o = opened(evs)[0];
  t.truthy(o);
  t.true(o!.atMs - onset <= 500, `opened ${o!.atMs - onset} ms after onset`);
  t.is(o!.incident.severity, 'critical');
  t.is(o!.extension.started_at_ms, onset);
});

test('an onset in the middle of a tick still opens within 500 ms', (t) => {
  const d = new Detector(cfg);
  warm(d);
  const onset = 30_050; // the first attack tick carries half the flood
  const evs: DetectorEvent[] = [];
  for (let tt = 30_100; tt <= 31_000; tt += TICK) {
    const k = tt === 30_100 ? 0.5 : 1;
    evs.push(...d.push(sample(tt, [...normal(2_000), udp(200_000 * k)])));
  }
  const o = opened(evs)[0];
  t.truthy(o);
  t.true(o!.atMs - onset <= 500);
});

test('a 2x spike of 500 ms does not open an incident', (t) => {
  const d = new Detector(cfg);
  warm(d);
  const evs = run(d, 30_000, 60_000, (tt) => (tt > 40_000 && tt <= 40_500 ? normal(20_000) : normal(2_000)));
  t.deepEqual(evs, []);
});

test('2x spikes of 500 ms every second do not open an incident', (t) => {
  const d = new Detector(cfg);
  warm(d);
  const evs = run(d, 30_000, 90_000, (tt) => (tt % 1_000 > 0 && tt % 1_000 <= 500 ? normal(20_000) : normal(2_000)));
  t.deepEqual(evs, []);
});

test('the same 2x traffic sustained is confirmed after 600-700 ms (middle path)', (t) => {
  const d = new Detector(cfg);
  warm(d);
  const evs = run(d, 30_000, 40_000, () => normal(20_000));
  const o = opened(evs)[0];
  t.truthy(o, 'a sustained crossing must open');
  const delay = o!.atMs - 30_000;
  t.true(delay >= 600 && delay <= 700, `confirmed after ${delay} ms`);
  t.is(o!.incident.severity, 'medium');
});

test('a flood that undershoots to 1.6x with one tick in seven under 1.4x is still confirmed by the middle path', (t) => {
  const d = new Detector(cfg);
  warm(d);
  const evs = run(d, 30_000, 32_000, (tt) => normal(tt % 700 === 300 ? 13_000 : 16_000));
  const o = opened(evs)[0];
  t.truthy(o);
  t.true(o!.atMs - 30_000 <= 800, `confirmed after ${o!.atMs - 30_000} ms`);
});

test('1.2x for two seconds does not open; sustained, it is confirmed after about 2.4-3 s (slow path)', (t) => {
  const d = new Detector(cfg);
  warm(d);
  t.deepEqual(
    run(d, 30_000, 32_000, () => normal(12_000)),
    [],
  );
  const evs = run(d, 32_000, 40_000, () => normal(12_000));
  const o = opened(evs)[0];
  t.truthy(o, 'a sustained crossing must open');
  const delay = o!.atMs - 30_000;
  t.true(delay >= 2_000 && delay <= 3_100, `confirmed after ${delay} ms`);
});

test('a crossing of 3x, under the fast ratio, is not opened by the fast path but by the middle one after 600-700 ms', (t) => {
  const d = new Detector(cfg);
  warm(d);
  t.deepEqual(
    run(d, 30_000, 30_500, () => [...normal(2_000), udp(28_000)]),
    [],
  );
  const o = opened(run(d, 30_500, 32_000, () => [...normal(2_000), udp(28_000)]))[0];
  t.truthy(o);
  t.true(o!.atMs - 30_000 >= 600 && o!.atMs - 30_000 <= 700, `opened ${o!.atMs - 30_000} ms after onset`);
});

test("flooding: only while an open incident's ticks are over the threshold, not in the quiet hold", (t) => {
  const d = new Detector(cfg);
  warm(d);
  t.false(d.flooding);
  run(d, 30_000, 31_000, () => [...normal(2_000), udp(100_000)]);
  t.true(d.active && d.flooding);
  run(d, 31_000, 32_000, () => normal(2_000));
  t.true(d.active, 'still open: the hold');
  t.false(d.flooding);
});

test('updates 200 ms and 1 s after the opening, then every 5 s while the attack lasts, then one resolve after the hold time', (t) => {
  const d = new Detector(cfg);
  warm(d);
  const evs = run(d, 30_000, 90_000, (tt) => (tt <= 60_000 ? [...normal(2_000), udp(100_000)] : normal(2_000)));
  t.is(opened(evs).length, 1);
  const updates = evs.filter((e) => e.type === 'updated');
  // 200 ms after the open (enough packets to judge spoofing), a second after it (its first full second of
  // sources), then every 5 s until the resolve, hold time included.
  const times = [opened(evs)[0]!.atMs, ...updates.map((e) => e.atMs)];
  t.true(updates.length >= 8, `${updates.length} updates`);
  t.is(times[1]! - times[0]!, 200);
  t.is(times[2]! - times[0]!, 1_000);
  for (let i = 3; i < times.length; i++) t.is(times[i]! - times[i - 1]!, 5_000);
  const resolved = evs.filter((e) => e.type === 'resolved');
  t.is(resolved.length, 1);
  t.is(resolved[0]!.extension.ended_at_ms, 60_000);
  t.true(resolved[0]!.atMs >= 70_000 && resolved[0]!.atMs <= 70_100, `resolved at ${resolved[0]!.atMs}`);
  t.is(evs[evs.length - 1]!.type, 'resolved');
  t.false(d.active);
});

test('dips shorter than the hold time keep one incident open (hysteresis)', (t) => {
  const d = new Detector(cfg);
  warm(d);
  // 4 s of flood, 3 s of quiet, repeated for a minute.
  const evs = run(d, 30_000, 90_000, (tt) => (tt % 7_000 < 4_000 ? [...normal(2_000), udp(100_000)] : normal(2_000)));
  t.is(opened(evs).length, 1);
  t.is(evs.filter((e) => e.type === 'resolved').length, 0);
  t.true(d.active);
});

test('traffic just under the threshold keeps the incident open: it must fall under 0.8x', (t) => {
  const d = new Detector(cfg);
  warm(d);
  const evs = run(d, 30_000, 70_000, (tt) => (tt <= 35_000 ? [...normal(2_000), udp(100_000)] : normal(9_000)));
  t.is(opened(evs).length, 1);
  t.is(evs.filter((e) => e.type === 'resolved').length, 0);
  const after = run(d, 70_000, 85_000, () => normal(7_000));
  t.is(after.filter((e) => e.type === 'resolved').length, 1);
});

test('a new flood after a resolve opens a second incident with a new sequence number', (t) => {
  const d = new Detector(cfg);
  warm(d);
  const flood = (tt: number) => ((tt > 30_000 && tt <= 40_000) || tt > 60_000 ? [...normal(2_000), udp(100_000)] : normal(2_000));
  const evs = run(d, 30_000, 62_000, flood);
  const o = opened(evs);
  t.is(o.length, 2);
  t.deepEqual(
    o.map((e) => e.extension.seq),
    [1, 2],
  );
});

test('a gap in the samples restarts confirmation instead of opening on stale history', (t) => {
  const d = new Detector(cfg);
  warm(d);
  t.deepEqual(
    run(d, 30_000, 32_000, () => normal(12_000)),
    [],
  ); // 2 s at 1.2x: not yet confirmed
  const evs = [...d.push(sample(40_000, normal(12_000))), ...d.push(sample(40_100, normal(12_000)))];
  t.deepEqual(evs, []);
});

test('samples out of order or with no interval are ignored', (t) => {
  const d = new Detector(cfg);
  warm(d);
  t.deepEqual(d.push(sample(29_000, [udp(1e6)])), []);
  t.deepEqual(d.push(sample(30_100, [udp(1e6)], 0)), []);
});

test('the incident carries the SPEC fields, with nothing invented', (t) => {
  const d = new Detector(cfg);
  warm(d);
  const evs = run(d, 30_000, 36_000, () => [...normal(2_000), udp(100_000)]);
  const u = evs.find((e) => e.type === 'updated');
  t.truthy(u);
  const f = u!.incident;
  t.is(f.peak_pps, 102_000);
  t.is(f.peak_bps, Math.round(2_000 * (0.7 * 600 + 0.25 * 200 + 0.05 * 84) * 8 + 100_000 * 120 * 8));
  const sum = f.protocol_breakdown.tcp + f.protocol_breakdown.udp + f.protocol_breakdown.icmp + f.protocol_breakdown.other;
  t.true(Math.abs(sum - 100) < 0.5);
  t.true(f.protocol_breakdown.udp > 95);
  t.deepEqual(f.geo_breakdown, {});
  t.deepEqual(f.ioc_matches, []);
  t.false(f.botnet_detected);
  t.is(f.source_ip_count, 380);
  t.deepEqual(Object.keys(f.tcp_flag_breakdown), ['SYN', 'SYNACK', 'ACK', 'FIN', 'RST', 'PSH', 'URG', 'NULL', 'XMAS']);
  t.is(f.top_dst_ports[0]?.port, 443);
  t.is(f.top_src_ips.length, 3);
});
