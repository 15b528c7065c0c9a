// The response-policy engine, pure: conditions, the cooldown (a new incident
// of the node waits, the one being acted on never does), the limit of rules
// per incident (later reports top up to it), sources the agent marked normal
// and the smallest ones left out, spoofed floods refused, a disabled policy;
// drop_top_sources waiting for the agent's spoofing verdict; the covering
// prefixes of drop_source_prefixes (a reflector subnet, a spoofed range,
// min_sources, a normal client inside, the dominant port, IPv6).
import test from 'ava';
import { SPOOF_RULE } from '../../../agent/detect/spoofing.ts';
import { newPolicy } from '../../../contract/wire/policy.ts';
import { decide, type History, type IncidentView, type Policy, unmet } from '../../../server/policy/decide.ts';
import { SPOOF_MIN_PACKETS, SPOOF_MIN_SOURCES } from '../../../server/policy/top-sources.ts';

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
  source_ip_count: 40,
  updates: 1,
  top_dst_ports: [{ port: 80, count: 900 }],
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
    d.rules.map((s) => s.source),
    ['198.51.100.1', '198.51.100.2'],
  );
  t.is(d.rules[0]!.because, "198.51.100.1 sent 60.1% of its top sources' packets");
  t.is(d.why, 'syn_flood/high at 50000 pps');
  t.deepEqual(
    d.skipped.map((s) => s.source),
    ['192.0.2.10', '198.51.100.3'],
    'the normal client and the 0.4% source',
  );
});

test('later reports top up to the limit; then nothing', (t) => {
  const p = policy({ max_rules: 3, action: { type: 'drop_top_sources', min_share_pct: 0 } });
  const first = decide(p, incident(), { sources: new Set(['198.51.100.1', '198.51.100.2']) }, NOW);
  t.true(first.act && first.rules.length === 1 && first.rules[0]!.source === '198.51.100.3');
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

// The opening report of a spoofed flood as the agent sends it: spoofing_detected false (the
// first ticks' talker window is too short for the verdict), thousands of sources, 27 of them
// heavy enough to drop one by one.
const opening = (o: Partial<IncidentView> = {}) =>
  incident({
    attack_family: 'multi_vector',
    updates: 0,
    source_ip_count: 6000,
    top_src_ips: Array.from({ length: 27 }, (_, i) => ({ ip: `198.19.${i * 9}.${i + 1}`, count: 40 })),
    ...o,
  });

test('drop_top_sources waits for the spoofing verdict of the report after the opening', (t) => {
  const wait = decide(policy(), opening(), none, NOW);
  t.false(wait.act);
  if (!wait.act) t.regex(wait.why, /^spoofing not judged yet: the opening report \(6000 sources\)/);
  t.false(decide(policy(), opening({ source_ip_count: null }), none, NOW).act, 'no source count: waits too');
  const spoofed = decide(policy(), opening({ updates: 1, spoofing_detected: true }), none, NOW);
  t.false(spoofed.act);
  if (!spoofed.act) t.regex(spoofed.why, /spoofed: dropping them would drop nobody/);
  t.true(decide(policy(), opening({ updates: 1 }), none, NOW).act, 'the next report says not spoofed: acts');
  // Too few sources for the spoofing rule to ever judge: the opening's verdict is final, act at once.
  t.true(decide(policy(), incident({ updates: 0, source_ip_count: 3 }), none, NOW).act);
  t.false(decide(policy(), incident({ updates: 0, source_ip_count: SPOOF_MIN_SOURCES }), none, NOW).act);
  t.is(SPOOF_MIN_SOURCES, SPOOF_RULE.minSources, "the agent's rule and the server's wait agree");
  t.is(SPOOF_MIN_PACKETS, SPOOF_RULE.minPackets, "the agent's rule and the server's wait agree");
});

test('drop_top_sources with the packets the verdict rests on: few sources in 512 packets, or the first full second', (t) => {
  // A surge opening: 30 ms of a SYN flood from one host, 240 packets; the report 200 ms later, 1,600.
  const early = decide(policy(), incident({ updates: 0, source_ip_count: 1, packets: 240 }), none, NOW);
  t.false(early.act);
  if (!early.act) t.regex(early.why, /^spoofing not judged yet: 240 packets from 1 sources/);
  t.true(decide(policy(), incident({ updates: 1, source_ip_count: 1, packets: 1_600 }), none, NOW).act);
  t.true(decide(policy(), incident({ updates: 0, source_ip_count: 255, packets: 512 }), none, NOW).act, 'a 2x opening');
  // Half a random-source flood (a multi-vector): 660 sources in 1,300 packets waits for the first full second.
  const multi = (updates: number, packets: number) => incident({ updates, source_ip_count: 660, packets });
  t.false(decide(policy(), multi(1, 1_300), none, NOW).act, 'the 200 ms report');
  t.true(decide(policy(), multi(2, 6_600), none, NOW).act, 'the 1 s report says not spoofed: acts');
  t.false(decide(policy(), multi(2, 900), none, NOW).act, 'the 1 s report, under 1,000 packets');
  t.true(decide(policy(), multi(3, 900), none, NOW).act, 'any report after it');
  const spoofed = decide(policy(), opening({ updates: 2, spoofing_detected: true, packets: 5_000 }), none, NOW);
  t.false(spoofed.act);
});

const prefixes = (action: object = {}, o: object = {}) => policy({ action: { type: 'drop_source_prefixes', ...action }, ...o });
/** The lab's DNS reflection: 16 resolvers 198.19.53.1-16 (scripts/lab/attacks.ts RESOLVERS), random destination ports. */
const reflection = (o: Partial<IncidentView> = {}) =>
  incident({
    attack_family: 'dns_flood',
    updates: 0,
    top_src_ips: [
      ...Array.from({ length: 16 }, (_, i) => ({ ip: `198.19.53.${i + 1}`, count: 500 })),
      { ip: '198.18.70.3', count: 20, normal: true },
    ],
    top_dst_ports: Array.from({ length: 10 }, (_, i) => ({ port: 30_000 + i, count: 10 })),
    ...o,
  });

test('drop_source_prefixes drops a reflector subnet, from the opening report, spoofed or not', (t) => {
  for (const spoofing_detected of [false, true]) {
    const d = decide(prefixes({ protocol: 'udp' }), reflection({ spoofing_detected }), none, NOW);
    t.true(d.act);
    if (!d.act) return;
    t.deepEqual(
      d.rules.map(({ key: _, ...r }) => r),
      [{ source: '198.19.53.0/24', protocol: 'udp', because: '198.19.53.0/24 holds 16 of the top sources (100.0% of their packets)' }],
    );
    t.deepEqual(d.skipped, [], 'the normal client, in another /24, is no prefix of its own: it holds none of the sources');
  }
  const done: History = { sources: new Set(['198.19.53.0/24']) };
  t.false(decide(prefixes(), reflection(), done, NOW).act, 'dropped already for this incident');
});

test('drop_source_prefixes: a spoofed range spread wider than the prefix length, and min_sources', (t) => {
  const spread = opening({ spoofing_detected: true, updates: 1 });
  const narrow = decide(prefixes(), spread, none, NOW);
  t.false(narrow.act, 'one source per /24 of the /16');
  if (!narrow.act) t.regex(narrow.why, /no new prefix holds 4 of the top sources/);
  const wide = decide(prefixes({ prefix_length_v4: 16 }), spread, none, NOW);
  t.true(wide.act);
  if (wide.act) {
    t.deepEqual(
      wide.rules.map((r) => r.source),
      ['198.19.0.0/16'],
    );
    t.regex(wide.why, /, spoofed$/);
  }
  const three = reflection({ top_src_ips: reflection().top_src_ips.slice(0, 3) });
  t.false(decide(prefixes(), three, none, NOW).act, '3 sources, min_sources 4');
  t.true(decide(prefixes({ min_sources: 3 }), three, none, NOW).act, '3 sources, min_sources 3');
  const two = decide(prefixes({}, { max_rules: 1 }), reflection(), { sources: new Set(['x']) }, NOW);
  t.false(two.act, 'the limit of rules counts what was made before');
});

test('drop_source_prefixes never covers a client seen in normal traffic', (t) => {
  const inside = reflection({ top_src_ips: [...reflection().top_src_ips, { ip: '198.19.53.200', count: 900, normal: true }] });
  const d = decide(prefixes(), inside, none, NOW);
  t.false(d.act);
  const other = decide(
    prefixes(),
    incident({ top_src_ips: [...inside.top_src_ips, ...reflection().top_src_ips.map((s) => ({ ...s, ip: s.ip.replace('53', '54') }))] }),
    none,
    NOW,
  );
  t.true(other.act);
  if (!other.act) return;
  t.deepEqual(
    other.rules.map((r) => r.source),
    ['198.19.54.0/24'],
  );
  t.deepEqual(other.skipped, [{ source: '198.19.53.0/24', why: 'covers 198.19.53.200, seen in normal traffic before the attack' }]);
});

test('drop_source_prefixes with dominant_port: the one port carrying 80%, else nothing', (t) => {
  const p = prefixes({ protocol: 'udp', dominant_port: true, prefix_length_v4: 16 });
  const flood = opening({
    top_dst_ports: [
      { port: 27015, count: 900 },
      { port: 53, count: 100 },
    ],
  });
  const d = decide(p, flood, none, NOW);
  t.true(d.act);
  if (d.act) {
    t.like(d.rules[0], { source: '198.19.0.0/16', protocol: 'udp', port: 27015, key: '198.19.0.0/16 port 27015' });
    t.regex(d.rules[0]!.because, /holds 27 of the top sources \(100\.0% of their packets\), to port 27015 \(90\.0% of/);
  }
  const spread = decide(p, reflection(), none, NOW);
  t.false(spread.act, 'reflection: random destination ports');
  if (!spread.act) t.regex(spread.why, /no destination port carries 80%/);
  t.false(decide(p, opening({ top_dst_ports: [] }), none, NOW).act);
});

test('drop_source_prefixes groups IPv6 sources by /48 (or the length given)', (t) => {
  const v6 = incident({ top_src_ips: Array.from({ length: 5 }, (_, i) => ({ ip: `2001:db8:7:${i}::1`, count: 100 })) });
  const d = decide(prefixes(), v6, none, NOW);
  t.true(d.act && d.rules.length === 1 && d.rules[0]!.source === '2001:db8:7::/48');
  t.false(decide(prefixes({ prefix_length_v6: 64 }), v6, none, NOW).act, 'one source per /64');
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
    { name: 'x', action: { type: 'drop_source_prefixes', prefix_length_v4: 8 } },
    { name: 'x', action: { type: 'drop_source_prefixes', prefix_length_v6: 32 } },
    { name: 'x', action: { type: 'drop_source_prefixes', min_sources: 1 } },
    { name: 'x', action: { type: 'drop_source_prefixes', dominant_port: true } },
    { name: 'x', action: { type: 'drop_source_prefixes', dominant_port: true, protocol: 'icmp' } },
    { name: 'x', action: { type: 'drop_source_prefixes', min_share_pct: 1 } },
  ])
    t.false(newPolicy.safeParse(bad).success, JSON.stringify(bad));
  t.deepEqual(newPolicy.parse({ name: 'x', action: { type: 'drop_source_prefixes' } }).action, {
    type: 'drop_source_prefixes',
    prefix_length_v4: 24,
    prefix_length_v6: 48,
    min_sources: 4,
    dominant_port: false,
  });
  const r = newPolicy.safeParse({ name: 'x', action: { type: 'drop_source_prefixes', dominant_port: true } });
  t.deepEqual(r.error?.issues[0]?.path, ['action', 'dominant_port']);
});
