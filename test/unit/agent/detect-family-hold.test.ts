// The family an open incident reports changes only when the new one holds
// (agent/detect/family-hold.ts): an HTTP flood whose clients are dropped in
// the middle of its connection ramp stays http_flood in every report, while
// a SYN flood that really joins it is reported as multi_vector at once when
// it has held, without waiting for the next scheduled update.
import test from 'ava';
import { Detector } from '../../../agent/detect/index.ts';
import type { DetectorEvent } from '../../../agent/detect/types.ts';
import { HTTP_FLAGS, httpClients, normal, run } from './traffic.ts';

const cfg = { ppsThreshold: 10_000, bpsThreshold: 10_000_000_000 };
const families = (evs: DetectorEvent[]) => evs.map((e) => `${e.type}:${e.incident.attack_family}`);

/**
 * 300 ms of keep-alive requests; then a rule drops the clients while the rest of their connections
 * are being opened: 500 ms of SYNs that never become requests; then the clients resend their requests.
 */
function droppedMidRamp(d: Detector): DetectorEvent[] {
  run(d, 0, 30_000, () => normal(2_000));
  return [
    ...run(d, 30_000, 30_300, () => [...normal(2_000), httpClients(60_000, HTTP_FLAGS.keepAlive)]),
    ...run(d, 30_300, 30_800, () => [...normal(2_000), httpClients(60_000, { syn: 1 })]),
    ...run(d, 30_800, 35_000, () => [...normal(2_000), httpClients(15_000, HTTP_FLAGS.dropped)]),
    ...run(d, 35_000, 50_000, () => normal(2_000)),
  ];
}

test('an HTTP flood dropped in the middle of its connection ramp is http_flood in every report', (t) => {
  const evs = droppedMidRamp(new Detector(cfg));
  t.is(evs[0]?.type, 'opened');
  t.is(evs.at(-1)?.type, 'resolved');
  t.true(evs.length >= 4, families(evs).join(', '));
  for (const e of evs) t.is(e.incident.attack_family, 'http_flood', families(evs).join(', '));
});

test('without the hold the same traffic flaps: http_flood, multi_vector, http_flood', (t) => {
  const evs = droppedMidRamp(new Detector({ ...cfg, tuning: { familyHoldMs: 1 } }));
  const seen = evs.map((e) => e.incident.attack_family);
  t.true(seen.includes('multi_vector'), seen.join(', '));
  t.is(seen.at(-1), 'http_flood');
});

/** An HTTP flood for 3 s, then a SYN flood beside it for 7 s. */
function synJoins(d: Detector): { before: DetectorEvent[]; after: DetectorEvent[] } {
  run(d, 0, 30_000, () => normal(2_000));
  const http = () => [...normal(2_000), httpClients(40_000, HTTP_FLAGS.keepAlive)];
  const syn = { pps: 200_000, proto: 'tcp' as const, flags: { syn: 1 }, dstPort: 80, ttl: 'random' as const, distinct: 50_000 };
  return { before: run(d, 30_000, 33_000, http), after: run(d, 33_000, 40_000, () => [...http(), syn]) };
}

test('a SYN flood that joins and stays is reported as multi_vector as soon as it has held, in an update of its own', (t) => {
  const { before, after } = synJoins(new Detector(cfg));
  t.is(before[0]?.type, 'opened');
  t.true(
    before.every((e) => e.incident.attack_family === 'http_flood'),
    families(before).join(', '),
  );
  const first = after.find((e) => e.incident.attack_family === 'multi_vector');
  t.truthy(first, families(after).join(', '));
  t.true(
    after.filter((e) => e.atMs >= first!.atMs).every((e) => e.incident.attack_family === 'multi_vector'),
    families(after).join(', '),
  );
  // Where the ticks first read multi_vector: with a hold of 1 ms it is reported on the tick after.
  const raw = synJoins(new Detector({ ...cfg, tuning: { familyHoldMs: 1 } })).after.find(
    (e) => e.incident.attack_family === 'multi_vector',
  );
  const since = raw!.atMs - 100;
  t.is(first!.atMs - since, 1_000, `held from ${since - 33_000} ms after the SYN flood joined`);
  // The scheduled updates are 5 s apart from 31 s on (36 s, 41 s): this one is the change's own.
  t.is(first!.type, 'updated');
  t.not(first!.atMs, 36_000);
});
