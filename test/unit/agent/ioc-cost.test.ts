// What matching costs per sample (printed, not asserted: the machine sets
// the figure), on a mix like an attack's samples: a Mirai SYN flood,
// fragments of a memcached reflection and the lab's legitimate background,
// with the built-in signatures alone and with 100 and 10,000 workspace
// patterns. The agent sees at most about 1,000 samples a second in an attack.
import test from 'ava';
import { IocConsumer } from '../../../agent/ioc/consumer.ts';
import { Matcher } from '../../../agent/ioc/matcher.ts';
import { PatternIndex } from '../../../agent/ioc/patterns.ts';
import type { IocPattern } from '../../../contract/wire/ioc.ts';
import * as fx from '../../fixtures/ioc-packets.ts';
import { samplesOf } from '../../fixtures/samples.ts';

const N = 4_000;
const mix = [
  ...samplesOf(fx.miraiSyn(), N),
  ...fx.memcachedValueFragments().flatMap((f) => samplesOf(f, N / 3)),
  ...[fx.linuxSyn(), fx.linuxRequest(), fx.dnsAnswer(), fx.ping()].flatMap((p) => samplesOf(p, N / 4)),
];

function patterns(n: number): IocPattern[] {
  return Array.from({ length: n }, (_, i) =>
    i % 2
      ? { attack_name: `p${i}`, attack_family: 'udp_flood', text: `tok${i}` }
      : { attack_name: `p${i}`, attack_family: 'udp_flood', hex: (0x10000 + i).toString(16).padStart(8, '0'), offset: i % 40 },
  );
}

/** ns per sample: the median of 5 runs of `rounds` passes over the mix, after one to warm the JIT. */
function perSample(f: () => void, rounds = 4): number {
  f();
  const runs = Array.from({ length: 5 }, () => {
    const t0 = process.hrtime.bigint();
    for (let r = 0; r < rounds; r++) f();
    return Number(process.hrtime.bigint() - t0) / (rounds * mix.length);
  });
  return runs.sort((a, b) => a - b)[2]!;
}

test('cost per sample', (t) => {
  const rows: string[] = [];
  for (const n of [0, 100, 10_000]) {
    const m = new Matcher();
    m.setPatterns(new PatternIndex(patterns(n)));
    let hits = 0;
    const ns = perSample(() => {
      for (const s of mix) hits += m.match(s)?.size ?? 0;
    });
    rows.push(
      `matcher, ${String(n).padStart(6)} workspace patterns: ${ns.toFixed(0).padStart(5)} ns/sample (${((ns * 1000) / 1e6).toFixed(2)} ms of CPU per 1,000 samples)`,
    );
    t.true(hits >= (N + Math.floor(N / 3)) * 21, 'the Mirai samples and the first fragments matched in every round');
  }
  const c = new IocConsumer();
  const ns = perSample(() => c.onSamples(mix));
  rows.push(`consumer (match and count), builtin only: ${ns.toFixed(0).padStart(5)} ns/sample`);
  t.log(`\n${rows.join('\n')}`);
});
