// The IOC consumer over an incident: matches count from the onset (samples
// that came before the incident opened included, earlier ones not) to the
// end (the resolve's hold taken out), each report names every indicator
// with its count, and botnet_detected follows the documented rule, both ways.
import test from 'ava';
import { Detector, type DetectorEvent } from '../../../agent/detect/index.ts';
import { BOTNET_MIN_SAMPLES } from '../../../agent/ioc/botnet.ts';
import { IocConsumer } from '../../../agent/ioc/consumer.ts';
import type { PacketSample } from '../../../agent/packets/types.ts';
import { incidentReport } from '../../../contract/wire/agent.ts';
import * as fx from '../../fixtures/ioc-packets.ts';
import { samplesOf } from '../../fixtures/samples.ts';
import { normal, sample, TICK } from './traffic.ts';

/** A real detector (static threshold 500 pps) and the consumer, fed tick by tick: the tick's samples, then its events. */
function lab() {
  const c = new IocConsumer();
  const d = new Detector({ ppsThreshold: 500, bpsThreshold: 1e10 });
  const seen: DetectorEvent[] = [];
  const play = (from: number, to: number, flood: number, samples: (t: number) => PacketSample[]) => {
    for (let t = from + TICK; t <= to; t += TICK) {
      c.onSamples(samples(t - TICK));
      const comps = [...normal(100), ...(flood ? [{ pps: flood, proto: 'tcp' as const, flags: { syn: 1 }, distinct: 5000 }] : [])];
      for (const e of d.push(sample(t, comps))) {
        c.onIncident(e, `k${e.extension.seq}`);
        seen.push(e);
      }
    }
  };
  return { c, seen, play };
}

/** Per 100 ms tick: `mirai` Mirai SYN samples and 10 of the legitimate background. */
const tick = (mirai: number) => (t: number) => [
  ...samplesOf(fx.miraiSyn(), mirai, { atMs: t, stepMs: 100 / Math.max(1, mirai), seed: t }),
  ...samplesOf(fx.linuxSyn(), 10, { atMs: t, stepMs: 10, seed: t }),
];

test('counted from the onset, before the incident opened too, to the end, without the hold', (t) => {
  const { c, seen, play } = lab();
  play(0, 20_000, 0, tick(0));
  play(20_000, 21_000, 0, tick(5)); // Mirai samples under the threshold, before the onset: not the incident's
  play(21_000, 24_000, 8_000, tick(20)); // the flood: 30 ticks of 20
  const [opened] = seen;
  t.is(opened?.type, 'opened');
  t.is(opened?.extension.started_at_ms, 21_000);
  play(24_000, 24_500, 0, tick(4)); // stragglers after the end, in the hold
  play(24_500, 40_000, 0, tick(0));
  const resolved = seen.at(-1)!;
  t.is(resolved.type, 'resolved');
  t.is(resolved.extension.ended_at_ms, 24_000);
  const r = c.reportFields();
  t.deepEqual(r.ioc_matches, [
    { attack_name: 'Mirai SYN flood', attack_family: 'syn_flood', count: 600, source: 'builtin', botnet: 'Mirai' },
  ]);
  t.true(r.botnet_detected);
});

test('at the open, the samples since the onset already count', (t) => {
  const { c, seen, play } = lab();
  play(0, 20_000, 0, tick(0));
  for (let end = 20_100; seen.length === 0 && end < 23_000; end += TICK) play(end - TICK, end, 8_000, tick(20));
  const opened = seen[0]!;
  const ticks = (opened.atMs - opened.extension.started_at_ms) / TICK;
  t.true(ticks >= 1, `opened ${ticks} ticks after the onset`);
  t.like(c.reportFields().ioc_matches?.[0], { count: 20 * ticks });
});

/** A real opened event of the detector, re-dated: the consumer reads the type, the onset and the end. */
const REAL = (() => {
  const d = new Detector({ ppsThreshold: 500, bpsThreshold: 1e10 });
  for (let t = TICK; t <= 5_000; t += TICK) {
    const [e] = d.push(sample(t, [...normal(100), { pps: 8_000, proto: 'udp', distinct: 50 }]));
    if (e) return e;
  }
  throw new Error('the detector opened no incident');
})();
const ev = (type: DetectorEvent['type'], started: number, ended: number | null = null): DetectorEvent => ({
  ...REAL,
  type,
  extension: { ...REAL.extension, started_at_ms: started, ended_at_ms: ended },
});

test('a new incident starts from zero; the report fits the contract', (t) => {
  const c = new IocConsumer();
  c.onSamples(samplesOf(fx.miraiSyn(), 200, { atMs: 0, stepMs: 2 }));
  c.onIncident(ev('opened', 0), 'k1');
  c.onIncident(ev('resolved', 0, 400), 'k1');
  c.onSamples(samplesOf(fx.ntpMonlistResponse(), 200, { atMs: 10_000, stepMs: 2 }));
  c.onSamples(samplesOf(fx.linuxSyn(), 40, { atMs: 10_000, stepMs: 10 }));
  c.onIncident(ev('opened', 10_000), 'k2');
  const r = c.reportFields();
  t.deepEqual(
    r.ioc_matches?.map((m) => (typeof m === 'string' ? m : [m.attack_name, m.count])),
    [['NTP monlist response', 200]],
  );
  t.false(r.botnet_detected, 'NTP reflection names no botnet');
  t.true(incidentReport.pick({ ioc_matches: true, botnet_detected: true }).safeParse(r).success);
});

test('botnet_detected: enough samples and enough of the incident, or not', (t) => {
  const run = (mirai: number, legit: number) => {
    const c = new IocConsumer();
    c.onSamples(samplesOf(fx.miraiSyn(), mirai, { atMs: 100 }));
    c.onSamples(samplesOf(fx.linuxRequest(), legit, { atMs: 100 }));
    c.onIncident(ev('opened', 0), 'k');
    return c.reportFields();
  };
  t.true(run(BOTNET_MIN_SAMPLES, 0).botnet_detected, `${BOTNET_MIN_SAMPLES} of ${BOTNET_MIN_SAMPLES}`);
  t.false(run(BOTNET_MIN_SAMPLES - 1, 0).botnet_detected, 'too few samples, even if they are all');
  t.true(run(100, 900).botnet_detected, '10% of the incident');
  const trickle = run(99, 901);
  t.false(trickle.botnet_detected, 'under 10%: a trickle inside another attack');
  t.like(trickle.ioc_matches?.[0], { attack_name: 'Mirai SYN flood', count: 99 }, 'still listed as a match');
});

test('the lab background alone, or under a reflection flood: no match of it, never a botnet', (t) => {
  const c = new IocConsumer();
  for (const parts of [fx.linuxSyn(), fx.linuxRequest(), fx.dnsAnswer(), fx.ping()]) c.onSamples(samplesOf(parts, 500, { atMs: 10 }));
  c.onIncident(ev('opened', 0), 'k');
  t.deepEqual(c.reportFields(), { ioc_matches: [], botnet_detected: false });
  for (const f of fx.memcachedValueFragments()) c.onSamples(samplesOf(f, 300, { atMs: 20 }));
  c.onIncident(ev('updated', 0), 'k');
  t.deepEqual(c.reportFields(), {
    ioc_matches: [{ attack_name: 'memcached response', attack_family: 'udp_flood', count: 300, source: 'builtin' }],
    botnet_detected: false,
  });
});

test("the workspace's patterns, from the config poll's reply; a botnet pattern sets botnet_detected", (t) => {
  const c = new IocConsumer();
  c.onConfig({ ioc_patterns: [{ attack_name: 'memcached VALUE', attack_family: 'udp_flood', text: 'VALUE big', botnet: true }] });
  for (const f of fx.memcachedValueFragments()) c.onSamples(samplesOf(f, 50, { atMs: 20 }));
  c.onIncident(ev('opened', 0), 'k');
  const r = c.reportFields();
  t.deepEqual(
    r.ioc_matches?.map((m) => (typeof m === 'string' ? m : [m.attack_name, m.source, m.count, m.botnet])),
    [
      ['memcached response', 'builtin', 50, undefined],
      ['memcached VALUE', 'workspace', 50, 'memcached VALUE'],
    ],
  );
  t.true(r.botnet_detected, '50 of 150 samples: a third');
  c.onConfig({});
  c.onSamples(samplesOf(fx.memcachedValueFragments()[0]!, 50, { atMs: 30 }));
  c.onIncident(ev('updated', 0), 'k');
  t.like(c.reportFields().ioc_matches?.[1], { attack_name: 'memcached VALUE', count: 50 }, 'patterns gone: no new matches');
});
