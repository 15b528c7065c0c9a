// Choosing sources for local auto-mitigation, and the memory of normal
// sources that must never be chosen.
import test from 'ava';
import { Detector, pickOffenders, SourceMemory } from '../../../agent/detect/index.ts';
import { normal, run, sample } from './traffic.ts';

const none = { has: () => false };

test('picks the heaviest sources until they carry the coverage', (t) => {
  const top = [
    { ip: '203.0.113.3', count: 100 },
    { ip: '203.0.113.1', count: 5_000 },
    { ip: '203.0.113.2', count: 3_000 },
    { ip: '203.0.113.4', count: 1_500 },
  ];
  const p = pickOffenders(top, 10_000, none);
  t.deepEqual(
    p.sources.map((s) => s.ip),
    ['203.0.113.1', '203.0.113.2'],
  );
  t.is(p.share, 0.8);
  t.true(p.sufficient);
});

test('never picks a source seen in normal traffic, however heavy', (t) => {
  const top = [
    { ip: '192.0.2.10', count: 6_000 },
    { ip: '203.0.113.1', count: 3_000 },
  ];
  const p = pickOffenders(top, 10_000, new Set(['192.0.2.10']));
  t.deepEqual(
    p.sources.map((s) => s.ip),
    ['203.0.113.1'],
  );
  t.false(p.sufficient);
});

test('a distributed attack is not sufficiently covered; tiny sources are ignored', (t) => {
  const top = Array.from({ length: 50 }, (_, i) => ({ ip: `198.51.100.${i}`, count: 40 }));
  const p = pickOffenders(top, 100_000, none);
  t.deepEqual(p.sources, []);
  t.false(p.sufficient);
});

test('honours maxSources and rejects a zero attack size', (t) => {
  const top = Array.from({ length: 50 }, (_, i) => ({ ip: `198.51.100.${i}`, count: 100 }));
  const p = pickOffenders(top, 5_000, none, { maxSources: 5 });
  t.is(p.sources.length, 5);
  t.is(p.share, 0.1);
  t.deepEqual(pickOffenders(top, 0, none), { sources: [], share: 0, sufficient: false });
});

test('source memory is bounded, evicts the least recently seen, and round-trips', (t) => {
  const m = new SourceMemory(3);
  m.observe('a', 1);
  m.observe('b', 2);
  m.observe('c', 3);
  m.observe('a', 4);
  m.observe('d', 5);
  t.false(m.has('b'));
  t.true(m.has('a') && m.has('c') && m.has('d'));
  const copy = new SourceMemory(3, JSON.parse(JSON.stringify(m.exportState())));
  t.deepEqual(copy.exportState(), m.exportState());
  t.is(new SourceMemory(3, { version: 9 }).size, 0);
});

test("the detector remembers normal sources, not the attack's", (t) => {
  const d = new Detector({ ppsThreshold: 10_000 });
  run(d, 0, 30_000, () => normal(2_000, ['192.0.2.10', '192.0.2.11']));
  const attackers = ['203.0.113.7', '203.0.113.8'];
  const evs = run(d, 30_000, 40_000, () => [
    ...normal(2_000, ['192.0.2.10', '192.0.2.11']),
    { pps: 100_000, proto: 'udp', sources: [...attackers, '192.0.2.10'], distinct: 3 },
  ]);
  t.true(d.active);
  t.false(d.normalSources.has('203.0.113.7'));
  const top = evs[evs.length - 1]!.incident.top_src_ips;
  const p = pickOffenders(top, 100_000, d.normalSources);
  t.deepEqual(p.sources.map((s) => s.ip).sort(), attackers);
  t.false(p.sufficient); // a third of the flood comes from a known source: not dropped
});

test('a sighting on probation is remembered only once confirmed, and a discard forgets it', (t) => {
  const m = new SourceMemory(8);
  m.propose('a', 1_000);
  m.propose('a', 1_500); // the first sighting's time is kept
  m.propose('b', 1_800);
  t.false(m.has('a'));
  m.confirm(1_000);
  t.true(m.has('a'));
  t.false(m.has('b'));
  m.discardPending();
  m.confirm(10_000);
  t.false(m.has('b'));
});

test('the few packets of a flood in its first, still calm, tick do not make its source normal', (t) => {
  const d = new Detector({ ppsThreshold: 10_000 });
  run(d, 0, 30_000, () => normal(2_000));
  const flood = (pps: number) => ({ pps, proto: 'tcp' as const, flags: { syn: 1 }, sources: ['203.0.113.7'], sourceShare: 1, distinct: 1 });
  // The flood starts 20 ms before the end of a tick: 4,000 pps over that tick, under the threshold.
  run(d, 30_000, 30_100, () => [...normal(2_000), flood(4_000)]);
  run(d, 30_100, 32_000, () => [...normal(2_000), flood(20_000)]);
  t.true(d.active);
  t.false(d.normalSources.has('203.0.113.7'));
  t.true(d.normalSources.has('192.0.2.10'));
});

test('nor do they when the flood opens on its first full tick, and the incident resolves later', (t) => {
  const d = new Detector({ ppsThreshold: 10_000 });
  run(d, 0, 30_000, () => normal(2_000));
  const flood = (pps: number) => ({ pps, proto: 'udp' as const, sources: ['203.0.113.9'], sourceShare: 1, distinct: 1 });
  run(d, 30_000, 30_100, () => [...normal(2_000), flood(4_000)]);
  // One late tick of 200 ms at 20x: the fast path's whole window at once.
  d.push(sample(30_300, [...normal(2_000), flood(200_000)], 200));
  t.true(d.active);
  run(d, 30_300, 60_000, () => normal(2_000));
  t.false(d.active);
  t.false(d.normalSources.has('203.0.113.9'));
});

test('a source seen over a second before the attack is remembered when the attack opens, one seen just before is not', (t) => {
  const d = new Detector({ ppsThreshold: 10_000 });
  run(d, 0, 30_000, () => normal(2_000));
  // A client shows 1.5 s before the flood, another 300 ms before it: too late for the 2 s of calm.
  run(d, 30_000, 31_200, () => [...normal(2_000), { pps: 300, proto: 'tcp' as const, sources: ['198.51.100.20'], distinct: 1 }]);
  run(d, 31_200, 31_500, () => [
    ...normal(2_000),
    { pps: 300, proto: 'tcp' as const, sources: ['198.51.100.20', '198.51.100.21'], distinct: 2 },
  ]);
  t.false(d.normalSources.has('198.51.100.20'), 'not yet: 1.5 s of calm after it');
  const flood = { pps: 100_000, proto: 'udp' as const, sources: ['203.0.113.7'], sourceShare: 1, distinct: 1 };
  run(d, 31_500, 32_000, () => [...normal(2_000), flood]);
  t.true(d.active);
  t.true(d.normalSources.has('198.51.100.20'), 'seen 1.5 s before the onset');
  t.false(d.normalSources.has('198.51.100.21'), 'seen 300 ms before the onset');
  t.false(d.normalSources.has('203.0.113.7'));
});
