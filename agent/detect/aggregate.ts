/**
 * Running totals of the attack ticks of one incident: packets by feature,
 * histograms, peaks, the highest window count of each source and port, and
 * per-port packet estimates used to find reflection and DNS traffic.
 */
import { mergeRegisters } from '../../native/hll.ts';
import { FEATURES, type FeatureRates, featuresOf, zeroRates } from './profile.ts';
import type { PortCount, TrafficSample } from './types.ts';

const MAX_KEYS = 2_000; // bound on the per-source and per-port maps

export type PortKind = 'tcpDst' | 'udpDst' | 'udpSrc';

export interface Aggregate {
  ms: number;
  packets: number;
  /** Packets by feature (rate x interval, summed). */
  featurePackets: FeatureRates;
  ttl: number[];
  length: number[];
  peakPps: number;
  peakBps: number;
  maxDistinct: number;
  /** Estimated packets in the talker window at the tick of maxDistinct. */
  windowPacketsAtMaxDistinct: number;
  srcPeak: Map<string, number>;
  /** The register-wise maximum of the source estimator over the incident's windows: their union. */
  hll: Uint8Array | null;
  /** Packets of the incident that were IP fragments, could not be parsed, were dropped by rules. */
  fragments: number;
  malformed: number;
  dropped: number;
  portPeak: Record<PortKind, Map<number, number>>;
  /** Estimated packets per port over the incident. */
  portPackets: Record<PortKind, Map<number, number>>;
}

export function emptyAggregate(): Aggregate {
  return {
    ms: 0,
    packets: 0,
    featurePackets: zeroRates(),
    ttl: new Array<number>(256).fill(0),
    length: new Array<number>(7).fill(0),
    peakPps: 0,
    peakBps: 0,
    maxDistinct: 0,
    windowPacketsAtMaxDistinct: 0,
    srcPeak: new Map(),
    hll: null,
    fragments: 0,
    malformed: 0,
    dropped: 0,
    portPeak: { tcpDst: new Map(), udpDst: new Map(), udpSrc: new Map() },
    portPackets: { tcpDst: new Map(), udpDst: new Map(), udpSrc: new Map() },
  };
}

export function addSample(a: Aggregate, s: TrafficSample): void {
  const sec = s.intervalMs / 1000;
  a.ms += s.intervalMs;
  a.packets += s.pps * sec;
  const f = featuresOf(s);
  for (const k of FEATURES) a.featurePackets[k] += f[k] * sec;
  s.ttlHistogram.forEach((v, i) => {
    if (i < 256) a.ttl[i] = (a.ttl[i] ?? 0) + v;
  });
  s.lengthHistogram.forEach((v, i) => {
    if (i < 7) a.length[i] = (a.length[i] ?? 0) + v;
  });
  a.fragments += s.fragmentsPps * sec;
  a.malformed += s.malformedPps * sec;
  a.dropped += s.droppedPps * sec;
  if (s.hll) {
    if (!a.hll || a.hll.length !== s.hll.length) a.hll = new Uint8Array(s.hll.length);
    mergeRegisters(a.hll, s.hll);
  }
  a.peakPps = Math.max(a.peakPps, s.pps);
  a.peakBps = Math.max(a.peakBps, s.bps);
  if (s.distinctSources >= a.maxDistinct) {
    a.maxDistinct = s.distinctSources;
    a.windowPacketsAtMaxDistinct = windowPacketsOf(s, 'all');
  }
  for (const src of s.topSources) bumpMax(a.srcPeak, src.ip, src.count);
  addPorts(a, 'tcpDst', s.topTcpDstPorts, 'tcp', s);
  addPorts(a, 'udpDst', s.topUdpDstPorts, 'udp', s);
  addPorts(a, 'udpSrc', s.topUdpSrcPorts, 'udp', s);
}

/** Packets of the talker window: exact when the sample has them, else rate x window. */
export function windowPacketsOf(s: TrafficSample, which: 'all' | 'tcp' | 'udp'): number {
  if (s.windowPackets) return s.windowPackets[which];
  return ((which === 'all' ? s.pps : s.protoPps[which]) * s.windowMs) / 1000;
}

/**
 * A port's packets of the tick: its share of the window's packets that carry
 * ports, times all of the tick's packets of the protocol. UDP fragments past
 * the first have no ports, so a fragmented datagram counts whole with the
 * ports of its first fragment (a memcached reflection in 3 fragments is all
 * from port 11211, not a third of it).
 */
function addPorts(a: Aggregate, kind: PortKind, ports: readonly PortCount[], proto: 'tcp' | 'udp', s: TrafficSample): void {
  const windowPackets = Math.max(windowPacketsOf(s, proto) - (proto === 'udp' ? windowLaterFragments(s) : 0), 0);
  const tickPackets = (s.protoPps[proto] * s.intervalMs) / 1000;
  for (const p of ports) {
    bumpMax(a.portPeak[kind], p.port, p.count);
    if (windowPackets <= 0) continue;
    const share = Math.min(1, p.count / windowPackets);
    const m = a.portPackets[kind];
    if (m.size < MAX_KEYS || m.has(p.port)) m.set(p.port, (m.get(p.port) ?? 0) + share * tickPackets);
  }
}

function windowLaterFragments(s: TrafficSample): number {
  if (s.windowPackets) return s.windowPackets.udpLaterFragments ?? 0;
  return ((s.udpLaterFragmentsPps ?? 0) * s.windowMs) / 1000;
}

function bumpMax<K>(m: Map<K, number>, key: K, v: number): void {
  const old = m.get(key);
  if (old === undefined && m.size >= MAX_KEYS) return;
  if (old === undefined || v > old) m.set(key, v);
}

/** The port carrying most estimated packets of a kind, and its share of `total`. */
export function dominantPort(a: Aggregate, kind: PortKind, total: number): { port: number; share: number } | null {
  let best: { port: number; share: number } | null = null;
  if (total <= 0) return null;
  for (const [port, n] of a.portPackets[kind]) {
    const share = n / total;
    if (!best || share > best.share) best = { port, share };
  }
  return best;
}

/** The n entries with the highest counts, descending. */
export function topOf<K>(m: Map<K, number>, n: number): [K, number][] {
  return [...m.entries()].sort((x, y) => y[1] - x[1]).slice(0, n);
}
