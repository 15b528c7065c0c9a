// The spoofing rule (agent/detect/spoofing.ts): TTL bands, single-TTL floods
// from many sources, random sources, and what must not count as spoofed.
import test from 'ava';
import { Detector, judgeSpoofing, plausibleTtl } from '../../../agent/detect/index.ts';
import { type Component, normal, run } from './traffic.ts';

const hist = (f: (ttl: number) => number) => Array.from({ length: 256 }, (_, i) => f(i));
const uniform = hist(() => 100);
/** A real population: sources 3-25 hops from initial TTLs 64 and 128. */
const real = hist((i) => ((i >= 39 && i <= 61) || (i >= 103 && i <= 125) ? 100 : 0));

test('plausible TTLs: initial 64, 128, 255 minus up to 32 hops', (t) => {
  for (const ok of [32, 33, 50, 64, 96, 100, 128, 223, 240, 255]) t.true(plausibleTtl(ok), `${ok}`);
  for (const bad of [0, 1, 31, 65, 80, 95, 129, 200, 222]) t.false(plausibleTtl(bad), `${bad}`);
});

test('(a) random TTLs from many sources are spoofed', (t) => {
  const v = judgeSpoofing({ ttlHistogram: uniform, distinctSources: 500, windowPackets: 500_000 });
  t.true(v.spoofed);
  t.deepEqual(v.reasons, ['ttl_implausible']);
  t.true(v.implausibleShare > 0.55 && v.implausibleShare < 0.65);
});

test('a real population of sources is not spoofed', (t) => {
  const v = judgeSpoofing({ ttlHistogram: real, distinctSources: 5_000, windowPackets: 250_000 });
  t.false(v.spoofed);
  t.deepEqual(v.reasons, []);
});

test('(b) one TTL value for thousands of sources is spoofed', (t) => {
  const one = hist((i) => (i === 57 ? 100_000 : i === 118 ? 2_000 : 0));
  const v = judgeSpoofing({ ttlHistogram: one, distinctSources: 20_000, windowPackets: 200_000 });
  t.true(v.spoofed);
  t.deepEqual(v.reasons, ['ttl_single_value']);
  // The same TTL from a handful of hosts is simply one sender.
  t.false(judgeSpoofing({ ttlHistogram: one, distinctSources: 300, windowPackets: 200_000 }).spoofed);
});

test('(c) thousands of sources sending about one packet each are spoofed', (t) => {
  const v = judgeSpoofing({ ttlHistogram: real, distinctSources: 90_000, windowPackets: 100_000 });
  t.true(v.spoofed);
  t.deepEqual(v.reasons, ['sources_random']);
  t.false(judgeSpoofing({ ttlHistogram: real, distinctSources: 90_000, windowPackets: 1_000_000 }).spoofed);
});

test('too few packets or sources give no verdict', (t) => {
  t.false(judgeSpoofing({ ttlHistogram: hist(() => 3), distinctSources: 500, windowPackets: 500 }).spoofed);
  t.false(judgeSpoofing({ ttlHistogram: uniform, distinctSources: 100, windowPackets: 500_000 }).spoofed);
});

function incidentOf(flood: Component) {
  const d = new Detector({ ppsThreshold: 10_000 });
  run(d, 0, 30_000, () => normal(2_000));
  return run(d, 30_000, 36_000, () => [...normal(2_000), flood]).find((e) => e.type === 'updated')!.incident;
}

test('a SYN flood with random TTLs and sources is reported spoofed', (t) => {
  const f = incidentOf({ pps: 200_000, proto: 'tcp', bytes: 60, flags: { syn: 1 }, ttl: 'random', distinct: 150_000 });
  t.true(f.spoofing_detected);
  t.is(f.source_ip_count, 150_000 + 330);
});

test('reflection from 3 000 real reflectors is not reported spoofed', (t) => {
  const ttl = Array.from({ length: 20 }, (_, i) => 40 + i).concat(Array.from({ length: 20 }, (_, i) => 105 + i));
  const f = incidentOf({ pps: 200_000, proto: 'udp', bytes: 1400, srcPort: 123, ttl, distinct: 3_000 });
  t.false(f.spoofing_detected);
});
