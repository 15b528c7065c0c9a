// Classification of every family and sub-type, from floods on top of the
// normal mix of traffic.ts. Each case asserts the family and the sub-type of
// the incident the flood opens.
import test from 'ava';
import { Detector } from '../../../agent/detect/index.ts';
import type { AttackFamily } from '../../../agent/detect/types.ts';
import { type Component, HTTP_FLAGS, httpClients, normal, run, webNormal } from './traffic.ts';

const cfg = { ppsThreshold: 10_000, bpsThreshold: 10_000_000_000 };
const ttl = [47, 49, 53, 58, 108, 111, 117, 120];

/** Runs normal traffic, then normal plus the flood; returns the first update's classification. */
function classifyFlood(flood: Component[], base = 2_000, background: (pps: number) => Component[] = normal) {
  const d = new Detector(cfg);
  run(d, 0, 30_000, () => background(base));
  const evs = run(d, 30_000, 40_000, () => [...background(base), ...flood]);
  const u = evs.find((e) => e.type === 'updated');
  if (!u) throw new Error('the flood did not open an incident');
  return { family: u.incident.attack_family, subtype: u.extension.attack_subtype, ev: u };
}

const cases: [string, Component[], AttackFamily, string][] = [
  ['UDP flood to random ports', [{ pps: 150_000, proto: 'udp', bytes: 512, ttl, distinct: 40 }], 'udp_flood', 'udp_generic'],
  ['UDP fragments', [{ pps: 150_000, proto: 'udp', bytes: 1500, frag: 1, laterFrag: 0.5, ttl, distinct: 40 }], 'udp_flood', 'udp_fragment'],
  [
    // The lab's memcached-frag: 4,041-byte answers in 3 fragments, the ports on the first only.
    'fragmented memcached reflection: answers from 11211 in 3 fragments',
    [{ pps: 150_000, proto: 'udp', bytes: 1400, frag: 1, laterFrag: 2 / 3, srcPort: 11211, ttl, distinct: 16 }],
    'udp_flood',
    'memcached_reflection',
  ],
  [
    'fragmented DNS answers (4 KB EDNS responses from 53 in 3 fragments)',
    [{ pps: 150_000, proto: 'udp', bytes: 1400, frag: 1, laterFrag: 2 / 3, srcPort: 53, ttl, distinct: 40 }],
    'dns_flood',
    'dns_reflection',
  ],
  ['DNS query flood (dst 53)', [{ pps: 150_000, proto: 'udp', bytes: 80, dstPort: 53, ttl, distinct: 3000 }], 'dns_flood', 'dns_query'],
  ['SYN flood', [{ pps: 150_000, proto: 'tcp', bytes: 60, flags: { syn: 1 }, dstPort: 443, ttl, distinct: 40 }], 'syn_flood', 'syn'],
  ['SYN-ACK flood', [{ pps: 150_000, proto: 'tcp', bytes: 60, flags: { synack: 1 }, ttl, distinct: 40 }], 'syn_flood', 'synack'],
  ['ACK flood', [{ pps: 150_000, proto: 'tcp', bytes: 60, flags: { ack: 1 }, dstPort: 22, ttl, distinct: 40 }], 'unknown', 'ack'],
  ['RST flood', [{ pps: 150_000, proto: 'tcp', bytes: 60, flags: { rst: 1 }, ttl, distinct: 40 }], 'unknown', 'rst'],
  ['RST+ACK flood', [{ pps: 150_000, proto: 'tcp', bytes: 60, flags: { rst: 1, ack: 1 }, ttl, distinct: 40 }], 'unknown', 'rst'],
  ['FIN flood', [{ pps: 150_000, proto: 'tcp', bytes: 60, flags: { fin: 1 }, ttl, distinct: 40 }], 'unknown', 'fin'],
  [
    'XMAS flood',
    [{ pps: 150_000, proto: 'tcp', bytes: 60, flags: { fin: 1, psh: 1, urg: 1, xmas: 1 }, ttl, distinct: 40 }],
    'unknown',
    'xmas',
  ],
  ['NULL flood', [{ pps: 150_000, proto: 'tcp', bytes: 60, flags: { null: 1 }, ttl, distinct: 40 }], 'unknown', 'null'],
  [
    'PSH+ACK flood off web ports',
    [{ pps: 150_000, proto: 'tcp', bytes: 300, flags: { ack: 1, psh: 1 }, dstPort: 5432, ttl, distinct: 40 }],
    'unknown',
    'psh_ack',
  ],
  [
    'HTTP flood on 443',
    [{ pps: 60_000, proto: 'tcp', bytes: 400, flags: { syn: 0.15, ack: 0.85, psh: 0.45, fin: 0.15 }, dstPort: 443, ttl, distinct: 2000 }],
    'http_flood',
    'http',
  ],
  [
    'HTTP flood on 80',
    [{ pps: 60_000, proto: 'tcp', bytes: 400, flags: { syn: 0.2, ack: 0.8, psh: 0.4, fin: 0.2 }, dstPort: 80, ttl, distinct: 2000 }],
    'http_flood',
    'http',
  ],
  ["the lab's HTTP flood: keep-alive requests from 254 clients", [httpClients(60_000, HTTP_FLAGS.keepAlive)], 'http_flood', 'http'],
  ['HTTP flood with a new connection per request', [httpClients(60_000, HTTP_FLAGS.perRequest)], 'http_flood', 'http'],
  ['ICMP flood', [{ pps: 150_000, proto: 'icmp', bytes: 98, ttl, distinct: 40 }], 'icmp_flood', 'icmp'],
  ['GRE flood', [{ pps: 150_000, proto: 'other', bytes: 500, ttl, distinct: 40 }], 'unknown', 'ip_other'],
];

const reflection: [number, AttackFamily, string][] = [
  [53, 'dns_flood', 'dns_reflection'],
  [123, 'udp_flood', 'ntp_reflection'],
  [1900, 'udp_flood', 'ssdp_reflection'],
  [11211, 'udp_flood', 'memcached_reflection'],
  [389, 'udp_flood', 'cldap_reflection'],
  [19, 'udp_flood', 'chargen_reflection'],
  [161, 'udp_flood', 'snmp_reflection'],
  [3702, 'udp_flood', 'wsd_reflection'],
];
for (const [port, family, subtype] of reflection) {
  cases.push([
    `reflection from UDP source port ${port}`,
    [{ pps: 150_000, proto: 'udp', bytes: 1400, srcPort: port, ttl, distinct: 5000 }],
    family,
    subtype,
  ]);
}

for (const [name, flood, family, subtype] of cases) {
  test(`classifies: ${name} -> ${family}/${subtype}`, (t) => {
    const c = classifyFlood(flood);
    t.is(c.family, family);
    t.is(c.subtype, subtype);
  });
}

test('a SYN flood to port 80 is a SYN flood, not an HTTP flood', (t) => {
  const c = classifyFlood([{ pps: 150_000, proto: 'tcp', bytes: 60, flags: { syn: 1 }, dstPort: 80, ttl, distinct: 40 }]);
  t.is(c.family, 'syn_flood');
});

test('two significant vectors make a multi_vector incident listing both', (t) => {
  const c = classifyFlood([
    { pps: 80_000, proto: 'udp', bytes: 480, srcPort: 123, ttl, distinct: 3000 },
    { pps: 60_000, proto: 'tcp', bytes: 60, flags: { syn: 1 }, dstPort: 443, ttl, distinct: 40 },
  ]);
  t.is(c.family, 'multi_vector');
  t.is(c.subtype, 'ntp_reflection+syn');
  t.deepEqual(
    c.ev.extension.vectors.map((v) => v.family),
    ['udp_flood', 'syn_flood'],
  );
});

test('SYN and ACK floods together are multi_vector', (t) => {
  const c = classifyFlood([
    { pps: 60_000, proto: 'tcp', bytes: 60, flags: { syn: 1 }, dstPort: 443, ttl, distinct: 40 },
    { pps: 60_000, proto: 'tcp', bytes: 60, flags: { ack: 1 }, dstPort: 443, ttl, distinct: 40 },
  ]);
  t.is(c.family, 'multi_vector');
  t.is(c.ev.extension.vectors.length, 2);
});

test('a small second vector (under 25% of the excess) does not make it multi_vector', (t) => {
  const c = classifyFlood([
    { pps: 120_000, proto: 'udp', bytes: 480, srcPort: 123, ttl, distinct: 3000 },
    { pps: 20_000, proto: 'icmp', bytes: 98, ttl, distinct: 40 },
  ]);
  t.is(c.family, 'udp_flood');
  t.is(c.subtype, 'ntp_reflection');
});

test('normal TCP traffic under a UDP flood is not counted as a second vector', (t) => {
  // Normal traffic 9 000 pps (70% TCP). The flood makes the total 23 000 pps, of
  // which TCP is still 27%: only the excess over the learned profile counts.
  const c = classifyFlood([{ pps: 14_000, proto: 'udp', bytes: 480, ttl, distinct: 40 }], 9_000);
  t.is(c.family, 'udp_flood');
  t.true(c.ev.incident.protocol_breakdown.tcp > 25, 'the raw share is above the vector share');
});

// HTTP floods against SYN floods and a web server's own traffic.
const synTo = (pps: number, dstPort: number): Component => ({
  pps,
  proto: 'tcp',
  bytes: 60,
  flags: { syn: 1 },
  dstPort,
  ttl: [64],
  sources: ['198.19.6.6'],
  distinct: 1,
});

test("a SYN flood on a busy web server stays a SYN flood: the server's own requests are its normal traffic", (t) => {
  const c = classifyFlood([synTo(60_000, 80)], 6_000, webNormal);
  t.is(c.family, 'syn_flood');
  t.is(c.subtype, 'syn');
});

test('a UDP flood on a busy web server is a UDP flood, not a multi-vector attack with HTTP', (t) => {
  const c = classifyFlood([{ pps: 60_000, proto: 'udp', bytes: 512, dstPort: 27015, ttl, distinct: 40 }], 6_000, webNormal);
  t.is(c.family, 'udp_flood');
});

test("an HTTP flood and a SYN flood on the same port are multi_vector http+syn: SYNs beyond the requests are not the clients'", (t) => {
  const c = classifyFlood([httpClients(50_000, HTTP_FLAGS.keepAlive), synTo(60_000, 80)]);
  t.is(c.family, 'multi_vector');
  t.is(c.subtype, 'http+syn');
  t.deepEqual(
    c.ev.extension.vectors.map((v) => v.family),
    ['http_flood', 'syn_flood'],
  );
});

test('an HTTP flood beside a larger SYN flood on port 22 is still found: multi_vector with both', (t) => {
  const c = classifyFlood([httpClients(40_000, HTTP_FLAGS.perRequest), synTo(70_000, 22)]);
  t.is(c.family, 'multi_vector');
  t.deepEqual(c.ev.extension.vectors.map((v) => v.family).sort(), ['http_flood', 'syn_flood']);
});

test('the HTTP flood stays http_flood once a rule drops its clients and they resend their requests', (t) => {
  const d = new Detector(cfg);
  run(d, 0, 30_000, () => normal(2_000));
  const evs = [
    ...run(d, 30_000, 31_500, () => [...normal(2_000), httpClients(60_000, HTTP_FLAGS.keepAlive)]),
    ...run(d, 31_500, 36_000, () => [...normal(2_000), httpClients(15_000, HTTP_FLAGS.dropped)]),
    ...run(d, 36_000, 60_000, () => normal(2_000)),
  ];
  t.is(evs[0]?.type, 'opened');
  t.is(evs.at(-1)?.type, 'resolved');
  t.true(evs.length >= 3, 'updated while the clients resend');
  for (const e of evs) t.is(`${e.incident.attack_family}/${e.extension.attack_subtype}`, 'http_flood/http', e.type);
});
