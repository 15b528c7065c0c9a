// The sample tap: the rate follows the traffic (calm, attack, attack past
// its budget), samples are dated on the wall clock and the detector's clock
// and parsed, and no tap runs without a consumer.
import test from 'ava';
import { ATTACK_BUDGET, ATTACK_PER_SEC, CALM_PER_SEC, type SampleSource, SampleTap } from '../../../agent/packets/tap.ts';
import type { PacketSample } from '../../../agent/packets/types.ts';
import type { Sample } from '../../../native/index.ts';
import { eth, ipv4, udp } from '../../helpers/packets.ts';

function source() {
  const set: [number, number | undefined][] = [];
  let cb: ((s: Sample[]) => void) | undefined;
  const s: SampleSource & { set: typeof set; emit(x: Sample[]): void } = {
    set,
    onSamples: (f) => {
      cb = f;
    },
    stopSamples: () => {
      cb = undefined;
    },
    setSampling: (p, m) => void set.push([p, m]),
    emit: (x) => cb?.(x),
  };
  return s;
}

test('the rate: calm, attack, and calm again past the budget; a small change is left alone', (t) => {
  const src = source();
  const seen: PacketSample[] = [];
  const tap = new SampleTap(src, [{ onSamples: (b) => void seen.push(...b) }]);
  tap.start();
  tap.adapt(50_000, false);
  t.deepEqual(src.set.at(-1), [50_000 / CALM_PER_SEC, 2 * CALM_PER_SEC], 'calm: each CPU at most twice the target');
  tap.adapt(60_000, false);
  t.is(src.set.length, 2, 'within a factor of 2: unchanged');
  tap.adapt(400_000, true);
  t.deepEqual(src.set.at(-1), [400_000 / ATTACK_PER_SEC, 2 * ATTACK_PER_SEC]);
  // The sample's time bracketed on both clocks: a preemption between reads widens the bracket
  // instead of skewing the check (a single read after it once came out 5 ms late under CI load).
  const [perfBefore, wallBefore] = [performance.now(), Date.now()];
  const now = process.hrtime.bigint();
  const [wallAfter, perfAfter] = [Date.now(), performance.now()];
  const frame = eth(ipv4(udp({ dport: 123 }), { src: '198.19.0.5' }));
  src.emit(
    Array.from({ length: ATTACK_BUDGET }, () => ({ timestampNs: now, length: frame.length, verdict: 'pass' as const, data: frame })),
  );
  tap.adapt(400_000, true);
  t.deepEqual(src.set.at(-1), [400_000 / CALM_PER_SEC, 2 * CALM_PER_SEC], 'the budget is spent');
  t.is(seen.length, ATTACK_BUDGET);
  const { wallMs, atMs } = seen[0]!;
  // Date.now() ticks in whole ms; the tap's own offsets are exact to its tightest bracket.
  t.true(wallMs >= wallBefore - 1 && wallMs <= wallAfter + 2, `dated on the wall clock: ${wallMs} in [${wallBefore}, ${wallAfter}]`);
  t.true(atMs >= perfBefore - 1 && atMs <= perfAfter + 1, `and on the detector's: ${atMs} in [${perfBefore}, ${perfAfter}]`);
  t.like(seen[0]!.head, { src: '198.19.0.5', dport: 123 });
  tap.stop();
  t.deepEqual(src.set.at(-1), [0, undefined], 'off when the agent stops');
});

test('no consumer: the kernel never samples', (t) => {
  const src = source();
  const tap = new SampleTap(src, []);
  tap.start();
  tap.adapt(1e6, true);
  tap.stop();
  t.deepEqual(src.set, []);
});
