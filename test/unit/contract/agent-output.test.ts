// What the agent really sends, built by its own code, passes the server's
// schemas (contract/wire/agent.ts): metric samples from kernel snapshots,
// the detector's incident fields through a whole incident, heartbeats,
// acknowledgements of applied and refused commands, resolves, kernel-rules reports.
import test from 'ava';
import { ackBody, acksBody, heartbeatBody, incidentBody, resolveBody } from '../../../agent/bodies.ts';
import { Detector } from '../../../agent/detect/index.ts';
import { buildReport, RuleOrigins } from '../../../agent/kernel-report.ts';
import { toMetricSample } from '../../../agent/rates.ts';
import { applyCommand, type RuleTable } from '../../../agent/rules.ts';
import { resolvePolicy } from '../../../contract/commands/index.ts';
import { prefixOf } from '../../../contract/net/prefix.ts';
import * as A from '../../../contract/wire/agent.ts';
import { kernelRulesReport } from '../../../contract/wire/kernel-rules.ts';
import { COUNTER_NAMES } from '../../../native/counters.ts';
import type { Snapshot } from '../../../native/index.ts';
import { normal, run } from '../agent/traffic.ts';

function accepts(
  t: import('ava').ExecutionContext,
  schema: { safeParse(v: unknown): { success: boolean; error?: { issues: unknown[] } } },
  value: unknown,
  what: string,
) {
  const r = schema.safeParse(JSON.parse(JSON.stringify(value)));
  t.true(r.success, `${what}: ${JSON.stringify(r.error?.issues)}`);
}

const zero = Object.fromEntries(COUNTER_NAMES.map((n) => [n, 0]));
const snap = (packets: number, bytes: number, tcp: number, udp: number, icmp: number) =>
  ({ counters: { ...zero, packets, bytes, tcp, udp, icmp, fragments: packets / 10, dropped: packets / 2 } }) as unknown as Snapshot;

test('metric samples built from snapshots, alone and as a batch', (t) => {
  const a = snap(0, 0, 0, 0, 0);
  const samples = [
    toMetricSample(a, snap(3000, 300_000, 1000, 1500, 499), 1000, new Date(), 17),
    toMetricSample(a, a, 1000, new Date(), null),
    toMetricSample(a, snap(2 ** 40 / 10, 2 ** 40, 0, 2 ** 40 / 10, 0), 1000, new Date(Date.now() - 3600_000), 0),
  ];
  for (const s of samples) accepts(t, A.metricSample, s, JSON.stringify(s));
  accepts(t, A.metricsSchema(samples), samples, 'batch');
});

test("the detector's incident fields, opened, updated and resolved, with the sub-type", (t) => {
  const d = new Detector({ ppsThreshold: 10_000, bpsThreshold: 10_000_000_000 });
  run(d, 0, 30_000, () => normal(2_000));
  const flood = { pps: 100_000, proto: 'udp' as const, bytes: 120, ttl: 'random' as const, distinct: 5000, srcPort: 123 };
  const evs = [...run(d, 30_000, 36_000, () => [...normal(2_000), flood]), ...run(d, 36_000, 60_000, () => normal(2_000))];
  t.deepEqual([...new Set(evs.map((e) => e.type))], ['opened', 'updated', 'resolved']);
  for (const ev of evs) {
    const fields = { ...ev.incident, attack_subtype: ev.extension.attack_subtype };
    accepts(t, A.incidentReport, incidentBody(fields), `${ev.type} without id`);
    accepts(t, A.incidentReport, incidentBody(fields, 42), `${ev.type} with id`);
  }
  accepts(t, A.resolveIncident, resolveBody(42), 'resolve');
});

test('heartbeats and acknowledgements', (t) => {
  accepts(t, A.heartbeat, heartbeatBody('0.1.0', 12.7, 'Debian GNU/Linux 12 (bookworm)'), 'heartbeat');
  accepts(t, A.heartbeat, heartbeatBody('x'.repeat(500), -1, 'y'.repeat(500)), 'long strings are cut to the contract');
  accepts(t, A.heartbeat, heartbeatBody(`${'x'.repeat(99)}😀`, 1, `${'y'.repeat(199)}😀😀`), 'never in the middle of a character');
  const table: RuleTable = { addRule() {}, deleteRule: () => true, hasRule: () => false, ruleCount: 0 };
  const ctx = { policy: resolvePolicy(), protect: [], maxRules: 10, table };
  const applied = applyCommand({ id: 1, command: 'iptables -I INPUT -s 198.19.0.0/16 -j DROP' }, ctx);
  const refused = applyCommand({ id: 2, command: `iptables -F ${'x'.repeat(2000)}` }, ctx);
  t.is(applied.status, 'applied');
  t.is(refused.status, 'failed');
  accepts(t, A.commandAck, ackBody(applied), 'applied');
  accepts(t, A.commandAck, ackBody(refused), 'failed, with a long reason');
  accepts(
    t,
    A.commandAcks,
    acksBody([
      { cmd: { id: 1 }, out: applied },
      { cmd: { id: 2 }, out: refused },
    ]),
    'a batch',
  );
});

test('the kernel-rules report built from addon entries', (t) => {
  const origins = new RuleOrigins();
  origins.command({ source: prefixOf('198.19.0.0/16') }, 7);
  const entry = { family: 4, classBit: 1, mode: 'drop', expired: false, slot: 0, packets: 3, bytes: 180 } as const;
  const body = buildReport(
    {
      rules: [
        { ...entry, address: '198.19.0.0', prefixLen: 16, protocol: null, port: 0, expiresAt: Date.now() + 60_000 },
        { ...entry, address: '0.0.0.0', prefixLen: 0, protocol: 'icmp', port: 0, icmpType: 8, expiresAt: 0 },
        { ...entry, address: '198.19.0.9', prefixLen: 32, protocol: 'udp', port: 53, expiresAt: Date.now() + 1000 },
      ],
      killSwitch: false,
      attached: true,
      xdpMode: 'generic',
    },
    origins,
  );
  accepts(t, kernelRulesReport, body, 'report');
});
