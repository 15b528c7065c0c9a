import test from 'ava';
import type { TrafficSample } from '../../../agent/detect/index.ts';
import { AutoMitigation, closedPortSignature, echoSignature } from '../../../agent/mitigate.ts';
import { parseUdpPorts } from '../../../agent/procnet.ts';
import type { RuleTable } from '../../../agent/rules.ts';
import { protectedEntries, resolvePolicy } from '../../../contract/index.ts';
import type { Rule, RuleMatch } from '../../../contract/rule.ts';

/** A rule with its source as text, for assertions. */
type Flat = Omit<Rule, 'source'> & { source: string };
const flat = (r: RuleMatch): Flat => ({ ...r, source: r.source.cidr });

function table(): RuleTable & { added: Flat[] } {
  const added: Flat[] = [];
  return {
    added,
    addRule: (s) => void added.push(flat(s)),
    deleteRule: () => true,
    hasRule: () => false,
    get ruleCount() {
      return added.length;
    },
  };
}

let clock = 1_000_000;
const auto = (max = 8) =>
  new AutoMitigation({ ttlSeconds: 120, maxPerIncident: max, maxRules: 100, policy: resolvePolicy(), now: () => clock });
const none = { has: () => false };
const protect = protectedEntries({ server: ['203.0.113.5'], host: [], gateway: [], allowlist: [] });

test('drops the heaviest sources with the TTL', (t) => {
  const tb = table();
  const out = auto().step(
    [
      { ip: '198.19.0.1', count: 500 },
      { ip: '198.19.0.2', count: 400 },
      { ip: '198.19.0.3', count: 10 },
    ],
    1000,
    none,
    protect,
    tb,
  ).added;
  t.deepEqual(out, ['198.19.0.1', '198.19.0.2']);
  t.deepEqual(tb.added, [
    { source: '198.19.0.1/32', ttlSeconds: 120 },
    { source: '198.19.0.2/32', ttlSeconds: 120 },
  ]);
});

test('never a source seen in normal traffic, even the heaviest', (t) => {
  const tb = table();
  const normal = { has: (ip: string) => ip === '198.19.0.9' };
  const top = [{ ip: '198.19.0.9', count: 150 }, ...[1, 2, 3, 4, 5, 6, 7, 8, 9].map((n) => ({ ip: `198.19.1.${n}`, count: 95 }))];
  const out = auto(16).step(top, 1000, normal, protect, tb).added;
  t.false(out.includes('198.19.0.9'));
  t.is(out.length, 9);
});

test('nothing when a few sources cannot carry the attack (spoofed flood), nor protected ones, and a budget per incident', (t) => {
  const tb = table();
  const a = auto(2);
  t.deepEqual(
    a.step(
      [
        { ip: '198.19.0.1', count: 10 },
        { ip: '198.19.0.2', count: 10 },
      ],
      100_000,
      none,
      protect,
      tb,
    ).added,
    [],
  );
  t.deepEqual(a.step([{ ip: '203.0.113.5', count: 900 }], 1000, none, protect, tb).added, [], 'the server is protected');
  const top = [
    { ip: '198.19.0.1', count: 450 },
    { ip: '198.19.0.2', count: 450 },
    { ip: '198.19.0.3', count: 50 },
  ];
  t.is(a.step(top, 1000, none, protect, tb).added.length, 2);
  t.deepEqual(a.step([{ ip: '198.19.0.7', count: 900 }], 1000, none, protect, tb).added, [], 'budget spent');
  a.reset();
  t.deepEqual(a.step([{ ip: '198.19.0.7', count: 900 }], 1000, none, protect, tb).added, ['198.19.0.7'], 'a new incident, a new budget');
});

function udpFlood(port: number, over: Partial<TrafficSample> = {}): TrafficSample {
  return {
    timestampMs: 0,
    intervalMs: 100,
    pps: 10_000,
    bps: 0,
    protoPps: { tcp: 100, udp: 9_900, icmp: 0, other: 0 },
    protoBps: { tcp: 0, udp: 0, icmp: 0, other: 0 },
    tcpFlags: { syn: 0, synack: 0, ack: 0, fin: 0, rst: 0, psh: 0, urg: 0, null: 0, xmas: 0 },
    fragmentsPps: 0,
    malformedPps: 0,
    droppedPps: 0,
    distinctSources: 60_000,
    ttlHistogram: [],
    lengthHistogram: [],
    windowMs: 1000,
    windowPackets: { all: 10_000, tcp: 100, udp: 9_900 },
    topSources: [],
    topTcpDstPorts: [],
    topUdpSrcPorts: [],
    topUdpDstPorts: [
      { port: 53, count: 100 },
      { port, count: 9_500 },
    ],
    ...over,
  };
}

test('closed-port signature: a spoofed UDP flood on a port no socket uses', (t) => {
  const sig = closedPortSignature(udpFlood(27015), new Set([53, 68]));
  t.deepEqual(sig && { ...sig, rules: sig.rules.map(flat) }, {
    name: 'udp:27015',
    rules: [
      { source: '0.0.0.0/0', protocol: 'udp', port: 27015 },
      { source: '::/0', protocol: 'udp', port: 27015 },
    ],
  });
  t.is(closedPortSignature(udpFlood(27015), new Set([27015])), null, 'a port the host uses is never dropped from everyone');
  t.is(closedPortSignature(udpFlood(27015), null), null, 'sockets unreadable: no signature');
  t.is(closedPortSignature(udpFlood(27015, { topUdpDstPorts: [{ port: 27015, count: 5_000 }] }), new Set()), null, 'spread over ports');
  t.is(
    closedPortSignature(udpFlood(27015, { windowPackets: { all: 50_000, tcp: 40_100, udp: 9_900 } }), new Set()),
    null,
    'under a quarter UDP',
  );
  t.truthy(
    closedPortSignature(udpFlood(27015, { windowPackets: { all: 30_000, tcp: 20_100, udp: 9_900 } }), new Set()),
    'a third UDP: one vector of several',
  );
});

test('echo signature: an ICMP flood drops echo request and reply only, IPv4 and IPv6', (t) => {
  const icmpFlood = (icmp: number) => udpFlood(9, { protoPps: { tcp: 0, udp: 10_000 - icmp, icmp, other: 0 } });
  const sig = echoSignature(icmpFlood(9_000));
  t.is(sig?.name, 'icmp:echo');
  t.deepEqual(
    sig!.rules.map((r) => `${r.source.cidr} ${r.protocol} ${r.icmpType}`),
    ['0.0.0.0/0 icmp 8', '0.0.0.0/0 icmp 0', '::/0 icmp 128', '::/0 icmp 129'],
  );
  t.is(echoSignature(icmpFlood(7_000)), null, 'not mostly ICMP');
  t.is(echoSignature(udpFlood(9, { pps: 0, protoPps: { tcp: 0, udp: 0, icmp: 0, other: 0 } })), null);
});

test('a signature is dropped from every source (IPv4 and IPv6) once per incident', (t) => {
  const a = auto();
  const tb = table();
  const sig = closedPortSignature(udpFlood(27015), new Set())!;
  t.deepEqual(a.stepSignature(sig, tb), ['0.0.0.0/0 udp:27015', '::/0 udp:27015']);
  t.deepEqual(
    tb.added.map((r) => [r.source, r.protocol, r.port, r.ttlSeconds]),
    [
      ['0.0.0.0/0', 'udp', 27015, 120],
      ['::/0', 'udp', 27015, 120],
    ],
  );
  t.deepEqual(a.stepSignature(sig, tb), []);
  const echo = echoSignature(udpFlood(9, { protoPps: { tcp: 0, udp: 0, icmp: 10_000, other: 0 } }))!;
  t.deepEqual(a.stepSignature(echo, tb), ['0.0.0.0/0 icmp type 8', '0.0.0.0/0 icmp type 0', '::/0 icmp type 128', '::/0 icmp type 129']);
  a.reset();
  t.is(a.stepSignature(sig, tb).length, 2);
});

test('step reports whether a few sources carry the attack, even when they are all dropped already', (t) => {
  const a = auto();
  const tb = table();
  const top = [{ ip: '198.19.0.1', count: 900 }];
  t.deepEqual(a.step(top, 1000, none, protect, tb), { added: ['198.19.0.1'], covered: true });
  t.deepEqual(a.step(top, 1000, none, protect, tb), { added: [], covered: true });
  t.deepEqual(a.step([{ ip: '198.19.0.2', count: 30 }], 1000, none, protect, tb), { added: [], covered: false });
});

test('not covered when a chosen source cannot be dropped: protected, or past the budget', (t) => {
  const tb = table();
  t.deepEqual(
    auto().step([{ ip: '203.0.113.5', count: 900 }], 1000, none, protect, tb),
    { added: [], covered: false },
    'the server is protected',
  );
  const a = auto(1);
  t.deepEqual(a.step([{ ip: '198.19.0.1', count: 900 }], 1000, none, protect, tb), { added: ['198.19.0.1'], covered: true });
  t.deepEqual(a.step([{ ip: '198.19.0.2', count: 900 }], 1000, none, protect, tb), { added: [], covered: false }, 'budget spent');
});

test('a rule that expired during a long incident is added again, within the same budget', (t) => {
  const tb = table();
  const a = auto(1);
  const top = [{ ip: '198.19.0.1', count: 900 }];
  t.deepEqual(a.step(top, 1000, none, protect, tb).added, ['198.19.0.1']);
  clock += 119_000;
  t.deepEqual(a.step(top, 1000, none, protect, tb).added, [], 'still in force');
  clock += 1_000;
  t.deepEqual(a.step(top, 1000, none, protect, tb).added, ['198.19.0.1'], 'expired: again');
  const sig = closedPortSignature(udpFlood(27015), new Set())!;
  t.is(a.stepSignature(sig, tb).length, 2);
  t.is(a.stepSignature(sig, tb).length, 0);
  clock += 120_000;
  t.is(a.stepSignature(sig, tb).length, 2, 'an expired signature is added again');
});

test('one vector of several: a source carrying a fifth of the window alone is dropped, the rest is left to signatures', (t) => {
  const tb = table();
  // A SYN flood from one source beside a spoofed UDP flood: 45% from one source, the rest spread thin.
  const top = [
    { ip: '198.19.6.6', count: 450 },
    { ip: '198.19.7.1', count: 99 },
    ...[1, 2, 3].map((n) => ({ ip: `198.19.9.${n}`, count: 16 })),
  ];
  t.deepEqual(auto().step(top, 1000, none, protect, tb), { added: ['198.19.6.6'], covered: false });
  t.deepEqual(auto().step(top, 1000, new Set(['198.19.6.6']), protect, tb), { added: [], covered: false }, 'normal sources still never');
  const lighter = [{ ip: '198.19.6.7', count: 150 }, ...[1, 2, 3].map((n) => ({ ip: `198.19.9.${n}`, count: 16 }))];
  t.deepEqual(auto().step(lighter, 1000, none, protect, tb).added, [], 'a source under a fifth is not');
});

test('parseUdpPorts reads local ports of every UDP socket', (t) => {
  const udp = `   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops
  123: 00000000:0035 00000000:0000 07 00000000:00000000 00:00000000 00000000   101        0 1 2 0 0
  456: 0100007F:E1A2 08080808:0035 01 00000000:00000000 00:00000000 00000000     0        0 3 2 0 0`;
  t.deepEqual(
    [...parseUdpPorts(udp, null)!].sort((x, y) => x - y),
    [53, 57762],
  );
  t.is(parseUdpPorts(null, null), null);
});
