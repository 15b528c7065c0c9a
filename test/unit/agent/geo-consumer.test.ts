// The country count of an incident, driven the way the agent drives it: the
// real detector on plain ticks (traffic.ts), packet samples parsed from real
// frames, and the lab's test database (test/fixtures/geo: 198.18.0.0/17 DE,
// 198.18.128.0/17 FR, 198.19.0.0/16 BR but 198.19.53.0/24 ZA and
// 198.19.128.0/17 JP). Each tick delivers the samples of its 100 ms first,
// then the detector's events, then asks for the report, as agent.ts does.
import path from 'node:path';
import test from 'ava';
import { Detector } from '../../../agent/detect/index.ts';
import type { DetectorEvent } from '../../../agent/detect/types.ts';
import { GeoConsumer } from '../../../agent/geo/consumer.ts';
import { Countries } from '../../../agent/geo/countries.ts';
import { parseHead } from '../../../agent/packets/head.ts';
import type { PacketSample } from '../../../agent/packets/types.ts';
import { eth, ipv4, ipv6, udp } from '../../helpers/packets.ts';
import { type Component, normal, sample, TICK } from './traffic.ts';

const countries = Countries.load(path.join(import.meta.dirname, '../../fixtures/geo'));
const cfg = { ppsThreshold: 10_000, bpsThreshold: 10_000_000_000 };
const spoofedFlood: Component = { pps: 200_000, proto: 'udp', bytes: 120, ttl: 'random', distinct: 50_000 };
const plainFlood: Component = { pps: 200_000, proto: 'udp', bytes: 120, ttl: [50, 51, 52], distinct: 50 };

function packet(src: string, atMs: number): PacketSample {
  const data = src.includes(':') ? eth(ipv6(udp(), { src })) : eth(ipv4(udp(), { src }));
  return { monoNs: 0n, wallMs: atMs, atMs, length: data.length, verdict: 'pass', data, head: parseHead(data) };
}

interface Scene {
  /** Sources sampled in each tick while calm and during the flood. */
  calm: string[];
  flood: string[];
  /** Each flood's (start, end], ms. */
  floods: [number, number][];
  component: Component;
  until: number;
  capacity?: number;
}

/** Plays the scene; returns each event with the report made right after it, and every sample sent. */
function play(s: Scene) {
  const d = new Detector(cfg);
  const geo = new GeoConsumer(countries, { holdBackMs: 15_000, ...(s.capacity ? { capacity: s.capacity } : {}) });
  const sent: { atMs: number; src: string }[] = [];
  const reports: { ev: DetectorEvent; fields: ReturnType<GeoConsumer['reportFields']> }[] = [];
  for (let t = TICK; t <= s.until; t += TICK) {
    const flooding = s.floods.some(([from, to]) => t > from && t <= to);
    const srcs = flooding ? s.flood : s.calm;
    const batch = srcs.map((src, i) => packet(src, t - TICK + ((i + 1) * TICK) / srcs.length));
    for (const p of batch) sent.push({ atMs: p.atMs, src: p.head!.src });
    geo.onSamples(batch);
    for (const ev of d.push(sample(t, flooding ? [...normal(2_000), s.component] : normal(2_000)))) {
      geo.onIncident(ev);
      reports.push({ ev, fields: geo.reportFields() });
    }
  }
  /** What the incident's sources were, by country, after `from` up to `to`. */
  const expected = (from: number, to: number) => {
    const out: Record<string, number> = {};
    for (const x of sent) {
      const cc = countries.lookup(x.src);
      if (cc && x.atMs > from && x.atMs <= to) out[cc] = (out[cc] ?? 0) + 1;
    }
    return out;
  };
  const sampled = (from: number, to: number) => sent.filter((x) => x.atMs > from && x.atMs <= to).length;
  return { reports, expected, sampled };
}

const calm = ['198.18.0.3', '198.18.200.7']; // DE, FR
const spoofed = ['198.19.1.9', '198.19.2.9', '198.19.3.9', '198.19.200.9', '198.19.53.9', '198.18.0.3']; // 3 BR, JP, ZA, DE

test('a spoofed flood: countries from the onset to the end, by sampled packets, flagged geo_spoofed', (t) => {
  const { reports, expected } = play({ calm, flood: spoofed, floods: [[30_000, 45_000]], component: spoofedFlood, until: 60_000 });
  const opened = reports.find((r) => r.ev.type === 'opened')!;
  t.truthy(opened, 'the flood opens an incident');
  const onset = opened.ev.extension.started_at_ms;
  t.is(onset, 30_000);
  // Opened a few ticks after the onset: the samples since the onset count already (no FR: calm only).
  t.deepEqual(opened.fields.geo_breakdown, expected(onset, opened.ev.atMs));
  t.deepEqual(Object.keys(opened.fields.geo_breakdown!), ['BR', 'DE', 'JP', 'ZA'], 'largest first');
  t.true(opened.fields.geo_spoofed);
  const resolved = reports.find((r) => r.ev.type === 'resolved')!;
  const end = resolved.ev.extension.ended_at_ms!;
  t.is(end, 45_000);
  const want = expected(onset, end);
  t.deepEqual(resolved.fields.geo_breakdown, want, 'not the calm samples of the quiet hold before the resolve');
  t.is(want.BR, 3 * want.JP!);
  t.is(want.FR, undefined);
  t.true(resolved.fields.geo_spoofed);
});

test('a flood from real sources: geo_spoofed false; unknown sources and non-IP samples are left out', (t) => {
  const flood = ['198.19.200.1', '198.19.200.2', '10.1.2.3', '2001:db8:1:2::8001', '2001:db8:9000::1']; // JP, JP, none, NZ, AU
  const { reports, expected, sampled } = play({ calm, flood, floods: [[30_000, 40_000]], component: plainFlood, until: 55_000 });
  const resolved = reports.find((r) => r.ev.type === 'resolved')!;
  t.false(resolved.fields.geo_spoofed);
  const window = [resolved.ev.extension.started_at_ms, resolved.ev.extension.ended_at_ms!] as const;
  const want = expected(...window);
  t.is(resolved.fields.sampled_packets, sampled(...window), 'the samples drawn from, those placed nowhere included');
  t.is(resolved.fields.sampled_packets, (Object.values(want).reduce((a, b) => a + b, 0) * 5) / 4);
  t.deepEqual(resolved.fields.geo_breakdown, want);
  t.deepEqual(Object.keys(resolved.fields.geo_breakdown!), ['JP', 'AU', 'NZ'], 'largest first, then by code');
  const geo = new GeoConsumer(countries, { holdBackMs: 1_000 });
  geo.onSamples([{ ...packet('198.19.0.1', 1), head: null }]);
  t.deepEqual(geo.reportFields(), {}, 'no incident: nothing to add');
});

test('two incidents: each counts its own sources', (t) => {
  const floods: [number, number][] = [
    [30_000, 40_000],
    [70_000, 80_000],
  ];
  const { reports, expected } = play({ calm, flood: spoofed, floods, component: spoofedFlood, until: 100_000 });
  const resolved = reports.filter((r) => r.ev.type === 'resolved');
  t.is(resolved.length, 2);
  for (const r of resolved) t.deepEqual(r.fields.geo_breakdown, expected(r.ev.extension.started_at_ms, r.ev.extension.ended_at_ms!));
  const second = reports.find((r) => r.ev.type === 'opened' && r.ev.extension.started_at_ms === 70_000)!;
  t.deepEqual(second.fields.geo_breakdown, expected(70_000, second.ev.atMs), 'the second opens with its own samples only');
});

test('a ring too small for the hold: the samples it cannot hold are counted as they leave it', (t) => {
  const scene = { calm, flood: spoofed, floods: [[30_000, 40_000]] as [number, number][], component: spoofedFlood, until: 60_000 };
  const resolvedOf = (r: ReturnType<typeof play>) => r.reports.find((x) => x.ev.type === 'resolved')!.fields.geo_breakdown!;
  const small = resolvedOf(play({ ...scene, capacity: 64 })),
    full = resolvedOf(play(scene));
  // 64 places hold about a second of these samples: the flood's are counted all the same, but
  // the calm ones of the quiet hold leave the ring before the resolve tells where the incident ended.
  t.is(small.BR, full.BR);
  t.is(small.JP, full.JP);
  t.true(small.DE! > full.DE!);
  t.truthy(small.FR);
  t.is(full.FR, undefined);
});
