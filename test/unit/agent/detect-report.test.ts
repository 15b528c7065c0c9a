// The detector's report beyond SPEC's counters: distinct sources as the
// union of the incident's windows, the normal sources marked in
// top_src_ips, and the extensions (vectors, histograms, fragments, malformed
// and dropped packets).
import test from 'ava';
import { Detector } from '../../../agent/detect/index.ts';
import { estimateDistinct, mergeRegisters } from '../../../native/hll.ts';
import { kernelRegisters, range } from '../../helpers/hll.ts';
import { normal, run } from './traffic.ts';

/** The estimator's registers after sources first..first+n-1, as the kernel fills them. */
const registers = (first: number, n: number) => kernelRegisters(range(first, n));

test('distinct sources are the union of the windows; a normal top source is marked', (t) => {
  const d = new Detector({ ppsThreshold: 10_000, bpsThreshold: 1e10 });
  const heavy = '192.0.2.10';
  run(d, 0, 30_000, () => normal(2_000, [heavy, '192.0.2.11']));
  const windows = [registers(0, 8000), registers(8000, 8000), registers(16_000, 8000)]; // 24,000 sources in all
  let w = 0;
  const evs = run(
    d,
    30_000,
    37_000, // past the second update (1 s, then 5 s later)
    () => [...normal(2_000, [heavy]), { pps: 150_000, proto: 'udp', bytes: 100, ttl: 'random', distinct: 8000, frag: 0.2 }],
    (s) => {
      s.hll = windows[Math.min(2, Math.floor((s.timestampMs - 30_000) / 1000))];
      s.malformedPps = 100;
      s.droppedPps = 1_000;
      w++;
    },
  );
  const last = evs.at(-1)!;
  const union = new Uint8Array(4096);
  for (const r of windows) mergeRegisters(union, r);
  t.is(last.incident.source_ip_count, estimateDistinct(union));
  t.true(
    Math.abs(last.incident.source_ip_count - 24_000) < 1_200,
    `${last.incident.source_ip_count} of 24,000 (one window: ${estimateDistinct(windows[0]!)})`,
  );
  t.true(w > 0);
  const top = last.incident.top_src_ips.find((s) => s.ip === heavy);
  t.like(top, { normal: true }, `the client seen before the attack: ${JSON.stringify(last.incident.top_src_ips.slice(0, 3))}`);
  t.true(
    last.incident.top_src_ips.filter((s) => s.normal).every((s) => s.ip.startsWith('192.0.2.')),
    'only sources seen before',
  );
  t.is(last.incident.length_histogram.length, 7);
  t.true(Object.keys(last.incident.ttl_histogram).length > 50, 'random TTLs');
  t.true(last.incident.fragments > 0 && last.incident.malformed > 0 && last.incident.dropped > 0);
  t.true(last.incident.vectors.length >= 1 && last.incident.vectors[0]!.family === 'udp_flood');
});
