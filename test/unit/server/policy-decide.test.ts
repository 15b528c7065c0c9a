// The response-policy engine, pure: conditions, the cooldown (a new incident
// of the node waits, the one being acted on never does), the limit of rules
// per incident (later reports top up to it), sources the agent marked normal
// and the smallest ones left out, spoofed floods refused, a disabled policy.
import test from 'ava';
import { newPolicy } from '../../../contract/wire/policy.ts';
import { decide, type IncidentView, type Policy, unmet } from '../../../server/policy/decide.ts';

const policy = (o: object = {}): Policy => ({
  id: 1,
  ...newPolicy.parse({ name: 'p', action: { type: 'drop_top_sources' }, ...o }),
});
const incident = (o: Partial<IncidentView> = {}): IncidentView => ({
  id: 10,
  node_id: 3,
  status: 'open',
  attack_family: 'syn_flood',
  severity: 'high',
  peak_pps: 50_000,
  peak_bps: 30_000_000,
  spoofing_detected: false,
  top_src_ips: [
    { ip: '198.51.100.1', count: 600 },
    { ip: '198.51.100.2', count: 300 },
    { ip: '192.0.2.10', count: 95, normal: true },
    { ip: '198.51.100.3', count: 4 },
  ],
  ...o,
});
const none = { sources: new Set<string>() };
const NOW = 1_000_000_000;

test('conditions: family, severity, pps, bps, nodes', (t) => {
  const inc = incident();
  t.is(unmet({}, inc), null);
  t.is(unmet({ families: ['syn_flood', 'udp_flood'] }, inc), null);
  t.regex(unmet({ families: ['udp_flood'] }, inc)!, /family syn_flood/);
  t.is(unmet({ min_severity: 'high' }, inc), null);
  t.regex(unmet({ min_severity: 'critical' }, inc)!, /severity high is under critical/);
  t.regex(unmet({ min_pps: 60_000 }, inc)!, /50000 pps/);
  t.is(unmet({ min_bps: 30_000_000 }, inc), null);
  t.regex(unmet({ min_bps: 30_000_001 }, inc)!, /bps/);
  t.is(unmet({ node_ids: [3, 4] }, inc), null);
  t.regex(unmet({ node_ids: [4] }, inc)!, /node 3/);
});

test('drops the heaviest sources, never a normal one, none under the share, up to the limit', (t) => {
  const d = decide(policy({ max_rules: 2 }), incident(), none, NOW);
  t.true(d.act);
  if (!d.act) return;
  t.deepEqual(
    d.sources.map((s) => s.ip),
    ['198.51.100.1', '198.51.100.2'],
  );
  t.is(Math.round(d.sources[0]!.sharePct), 60);
  t.deepEqual(
    d.skipped.map((s) => s.ip),
    ['192.0.2.10', '198.51.100.3'],
    'the normal client and the 0.4% source',
  );
});

test('later reports top up to the limit; then nothing', (t) => {
  const p = policy({ max_rules: 3, action: { type: 'drop_top_sources', min_share_pct: 0 } });
  const first = decide(p, incident(), { sources: new Set(['198.51.100.1', '198.51.100.2']) }, NOW);
  t.true(first.act && first.sources.length === 1 && first.sources[0]!.ip === '198.51.100.3');
  const full = decide(p, incident(), { sources: new Set(['198.51.100.1', '198.51.100.2', '198.51.100.3']) }, NOW);
  t.false(full.act);
  if (!full.act) t.regex(full.why, /limit of 3/);
});

test('cooldown: a new incident of the node waits; the incident being acted on does not', (t) => {
  const p = policy({ cooldown_seconds: 300 });
  const recent = { sources: new Set<string>(), lastFiredElsewhereMs: NOW - 100_000 };
  const held = decide(p, incident(), recent, NOW);
  t.false(held.act);
  if (!held.act) t.regex(held.why, /cooling down/);
  t.true(decide(p, incident(), { ...recent, lastFiredElsewhereMs: NOW - 301_000 }, NOW).act, 'after the cooldown');
  t.true(decide(p, incident(), { sources: new Set(['198.51.100.1']), lastFiredElsewhereMs: NOW - 1000 }, NOW).act, 'topping up');
});

test('spoofed floods, resolved incidents and disabled policies get nothing', (t) => {
  const spoofed = decide(policy(), incident({ spoofing_detected: true }), none, NOW);
  t.false(spoofed.act);
  if (!spoofed.act) t.regex(spoofed.why, /spoofed/);
  t.false(decide(policy(), incident({ status: 'resolved' }), none, NOW).act);
  t.false(decide(policy({ enabled: false }), incident(), none, NOW).act);
  t.false(decide(policy(), incident({ top_src_ips: [] }), none, NOW).act);
});

test('the policy body: defaults, and bad fields named', (t) => {
  const p = newPolicy.parse({ name: 'x', action: { type: 'drop_top_sources' } });
  t.like(p, {
    enabled: true,
    scope: 'node',
    dry_run: false,
    ttl_seconds: 600,
    cooldown_seconds: 300,
    max_rules: 32,
    withdraw_grace_seconds: 120,
  });
  for (const bad of [
    { name: 'x', action: { type: 'nuke' } },
    { name: 'x', action: { type: 'drop_top_sources' }, max_rules: 0 },
    { name: 'x', action: { type: 'drop_top_sources' }, conditions: { families: ['tsunami'] } },
    { name: 'x', action: { type: 'drop_top_sources' }, conditions: { min_severity: 'huge' } },
    { name: ' ', action: { type: 'drop_top_sources' } },
    { name: 'x', action: { type: 'drop_top_sources' }, extra: 1 },
  ])
    t.false(newPolicy.safeParse(bad).success, JSON.stringify(bad));
});
