import test from 'ava';
import { toMetricSample, toTrafficSample } from '../../../agent/rates.ts';
import { COUNTER_NAMES } from '../../../native/counters.ts';
import type { Snapshot } from '../../../native/index.ts';

function snap(c: Partial<Snapshot['counters']>, extra: Partial<Snapshot> = {}): Snapshot {
  // Every counter at zero (native/counters.ts: no addon load, this is a unit test).
  const counters = Object.fromEntries(COUNTER_NAMES.map((n) => [n, 0])) as Snapshot['counters'];
  return {
    counters: { ...counters, ...c },
    lengthHistogram: new Array(7).fill(0),
    ttlHistogram: new Array(256).fill(0),
    epoch: 0,
    topSources: [],
    topPorts: [],
    talkersCut: 0,
    distinctSources: { current: 0, previous: 0 },
    hll: { current: new Uint8Array(4096), previous: new Uint8Array(4096) },
    ...extra,
  };
}

test('rates are counter deltas per second over the interval', (t) => {
  const a = snap({ packets: 1000, bytes: 100_000, udp: 800, udpBytes: 80_000, tcp: 200, tcpSyn: 50 });
  const ttl = new Array(256).fill(0);
  ttl[64] = 500;
  const b = snap(
    { packets: 1100, bytes: 110_000, udp: 880, udpBytes: 88_000, tcp: 220, tcpSyn: 60, otherIp: 3 },
    {
      ttlHistogram: ttl,
      distinctSources: { current: 42, previous: 7 },
      topSources: [
        { ip: '198.18.0.9', packets: 30, bytes: 3000, prevPackets: 0, prevBytes: 0 },
        { ip: '198.18.0.8', packets: 0, bytes: 0, prevPackets: 5, prevBytes: 9 },
      ],
      topPorts: [
        { kind: 'udpDst', port: 53, packets: 70, bytes: 1, prevPackets: 0, prevBytes: 0 },
        { kind: 'tcpDst', port: 443, packets: 9, bytes: 1, prevPackets: 0, prevBytes: 0 },
      ],
    },
  );
  const s = toTrafficSample(a, b, { timestampMs: 5000, intervalMs: 100, windowMs: 400 });
  t.is(s.pps, 1000);
  t.is(s.bps, 10_000 * 8 * 10);
  t.deepEqual(s.protoPps, { tcp: 200, udp: 800, icmp: 0, other: 30 });
  t.is(s.protoBps.udp, 8000 * 8 * 10);
  t.is(s.tcpFlags.syn, 100);
  t.is(s.ttlHistogram[64], 500);
  t.is(s.distinctSources, 42);
  t.is(s.windowMs, 400);
  t.deepEqual(s.topSources, [{ ip: '198.18.0.9', count: 30 }], 'current window only, empty entries left out');
  t.deepEqual(s.topUdpDstPorts, [{ port: 53, count: 70 }]);
  t.deepEqual(s.topTcpDstPorts, [{ port: 443, count: 9 }]);
});

test('a counter that went backwards (program replaced) counts from zero', (t) => {
  const s = toTrafficSample(snap({ packets: 5000 }), snap({ packets: 40 }), { timestampMs: 1, intervalMs: 200, windowMs: 10 });
  t.is(s.pps, 200);
  t.is(s.windowMs, 200, 'window never shorter than the interval');
});

test('metrics sample: SPEC fields, percentages, conn_count only when known', (t) => {
  const a = snap({ packets: 0 });
  const b = snap({ packets: 3000, bytes: 300_000, tcp: 1000, udp: 1500, icmp: 499, fragments: 300, dropped: 1200 });
  const m = toMetricSample(a, b, 1500, new Date('2025-01-01T00:00:00Z'), 17);
  t.deepEqual(m, {
    pps: 2000,
    bps: 1_600_000,
    tcp_pct: 33.33,
    udp_pct: 50,
    icmp_pct: 16.63,
    conn_count: 17,
    recorded_at: '2025-01-01T00:00:00.000Z',
    fragments_pps: 200,
    dropped_pps: 800,
  });
  const idle = toMetricSample(a, a, 1000, new Date(0), null);
  t.is(idle.pps, 0);
  t.is(idle.tcp_pct, 0);
  t.false('conn_count' in idle);
});
