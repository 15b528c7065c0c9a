/**
 * Kernel snapshots to rates. Pure: two snapshots and the time between them in,
 * a TrafficSample (the detector's input) out; counter deltas over the
 * interval, per second. Counters only grow; a smaller value (the program was
 * replaced under us) counts as a restart from zero. Also: the SPEC metrics
 * sample for one second from the ticks of that second.
 */
import type { MetricSample } from '../contract/wire/agent.ts';
import type { Snapshot } from '../native/index.ts';
import type { PortCount, TrafficSample } from './detect/index.ts';

export type { MetricSample };

type Counters = Snapshot['counters'];

export function delta(prev: Counters, cur: Counters, name: keyof Counters): number {
  const d = cur[name] - prev[name];
  return d >= 0 ? d : cur[name];
}

function histDelta(prev: readonly number[], cur: readonly number[]): number[] {
  return cur.map((v, i) => {
    const d = v - (prev[i] ?? 0);
    return d >= 0 ? d : v;
  });
}

export interface SampleTiming {
  /** End of the interval, ms (monotonic). */
  timestampMs: number;
  intervalMs: number;
  /** Time since the talker window started (last rotateWindow), ms. */
  windowMs: number;
  /** The snapshot taken when the talker window started: exact window packet counts. */
  windowBase?: Snapshot;
}

/** One tick's TrafficSample from the snapshot before and after it. */
export function toTrafficSample(prev: Snapshot, cur: Snapshot, t: SampleTiming): TrafficSample {
  const p = prev.counters,
    c = cur.counters;
  const per = 1000 / t.intervalMs;
  const r = (n: keyof Counters) => delta(p, c, n) * per;
  const ports = (kind: 'tcpDst' | 'udpDst' | 'udpSrc'): PortCount[] =>
    cur.topPorts.filter((x) => x.kind === kind && x.packets > 0).map((x) => ({ port: x.port, count: x.packets }));
  return {
    timestampMs: t.timestampMs,
    intervalMs: t.intervalMs,
    pps: r('packets'),
    bps: r('bytes') * 8,
    protoPps: { tcp: r('tcp'), udp: r('udp'), icmp: r('icmp'), other: r('otherIp') },
    protoBps: { tcp: r('tcpBytes') * 8, udp: r('udpBytes') * 8, icmp: r('icmpBytes') * 8, other: 0 },
    tcpFlags: {
      syn: r('tcpSyn'),
      synack: r('tcpSynAck'),
      ack: r('tcpAck'),
      fin: r('tcpFin'),
      rst: r('tcpRst'),
      psh: r('tcpPsh'),
      urg: r('tcpUrg'),
      null: r('tcpNull'),
      xmas: r('tcpXmas'),
    },
    fragmentsPps: r('fragments'),
    udpLaterFragmentsPps: r('udpLaterFragments'),
    malformedPps: r('malformed'),
    droppedPps: r('dropped'),
    distinctSources: cur.distinctSources.current,
    hll: cur.hll.current,
    ttlHistogram: histDelta(prev.ttlHistogram, cur.ttlHistogram),
    lengthHistogram: histDelta(prev.lengthHistogram, cur.lengthHistogram),
    windowMs: Math.max(t.intervalMs, t.windowMs),
    ...(t.windowBase
      ? {
          windowPackets: {
            all: delta(t.windowBase.counters, c, 'packets'),
            tcp: delta(t.windowBase.counters, c, 'tcp'),
            udp: delta(t.windowBase.counters, c, 'udp'),
            udpLaterFragments: delta(t.windowBase.counters, c, 'udpLaterFragments'),
          },
        }
      : {}),
    topSources: cur.topSources.filter((x) => x.packets > 0).map((x) => ({ ip: x.ip, count: x.packets })),
    topTcpDstPorts: ports('tcpDst'),
    topUdpDstPorts: ports('udpDst'),
    topUdpSrcPorts: ports('udpSrc'),
  };
}

const pct = (part: number, whole: number) => (whole > 0 ? Math.round((10_000 * part) / whole) / 100 : 0);

/** The metrics sample of the interval between two snapshots (normally one second apart). */
export function toMetricSample(
  prev: Snapshot,
  cur: Snapshot,
  intervalMs: number,
  recordedAt: Date,
  connCount: number | null,
): MetricSample {
  const p = prev.counters,
    c = cur.counters;
  const packets = delta(p, c, 'packets');
  const out: MetricSample = {
    pps: Math.round((packets * 1000) / intervalMs),
    bps: Math.round((delta(p, c, 'bytes') * 8 * 1000) / intervalMs),
    tcp_pct: Math.min(100, pct(delta(p, c, 'tcp'), packets)),
    udp_pct: Math.min(100, pct(delta(p, c, 'udp'), packets)),
    icmp_pct: Math.min(100, pct(delta(p, c, 'icmp'), packets)),
    recorded_at: recordedAt.toISOString(),
    fragments_pps: Math.round((delta(p, c, 'fragments') * 1000) / intervalMs),
    dropped_pps: Math.round((delta(p, c, 'dropped') * 1000) / intervalMs),
  };
  if (connCount !== null) out.conn_count = connCount;
  return out;
}
