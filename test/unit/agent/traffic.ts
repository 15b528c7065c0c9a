/**
 * Test helper: builds TrafficSample ticks from plain descriptions of traffic
 * components (a normal mix, a flood), the way the agent would from kernel
 * counters, and runs them through a Detector.
 */
import type { Detector } from '../../../agent/detect/index.ts';
import type { DetectorEvent, PortCount, TcpFlagRates, TrafficSample } from '../../../agent/detect/types.ts';

export const TICK = 100;

export interface Component {
  pps: number;
  proto: 'tcp' | 'udp' | 'icmp' | 'other';
  bytes?: number; // per packet, default 100
  /** Share of the component's packets carrying each flag counter. */
  flags?: Partial<TcpFlagRates>;
  frag?: number;
  /** Share of a UDP component's packets that are fragments past the first (no ports; within `frag`). */
  laterFrag?: number;
  /** TTL values the packets spread over evenly, or 'random' (uniform 0-255). */
  ttl?: readonly number[] | 'random';
  /** Heavy sources sharing `sourceShare` of the packets evenly. */
  sources?: readonly string[];
  sourceShare?: number;
  distinct?: number;
  srcPort?: number;
  dstPort?: number;
}

/** Ordinary traffic: mostly established TCP, some DNS answers and pings. */
export function normal(pps: number, sources = ['192.0.2.10', '192.0.2.11', '192.0.2.12']): Component[] {
  const ttl = [52, 55, 57, 60, 61, 113, 116, 119, 121, 244];
  return [
    {
      pps: pps * 0.7,
      proto: 'tcp',
      bytes: 600,
      flags: { ack: 0.9, psh: 0.4, syn: 0.05, fin: 0.04 },
      ttl,
      sources,
      sourceShare: 0.6,
      distinct: 300,
      dstPort: 443,
    },
    { pps: pps * 0.25, proto: 'udp', bytes: 200, ttl, srcPort: 53, distinct: 20 },
    { pps: pps * 0.05, proto: 'icmp', bytes: 84, ttl, distinct: 10 },
  ];
}

/**
 * TCP flag shares of HTTP floods as the kernel counts them. keepAlive: the
 * lab's h2load flood (scripts/lab/attacks-http.ts; measured at the victim:
 * SYN 3.9%, PSH 43%, FIN 3.9%, the rest the ACKs of the answers);
 * perRequest: a new connection for each request (SYN, ACK, request, ACK,
 * FIN); dropped: the keep-alive flood once a rule drops its clients, which
 * then resend their requests (measured: PSH 90%, SYN 6%).
 */
export const HTTP_FLAGS = {
  keepAlive: { syn: 0.04, ack: 0.96, psh: 0.43, fin: 0.04 },
  perRequest: { syn: 0.2, ack: 0.8, psh: 0.2, fin: 0.2 },
  dropped: { syn: 0.06, ack: 0.94, psh: 0.9 },
} satisfies Record<string, Partial<TcpFlagRates>>;

/** The lab's 254 HTTP clients (198.19.80.0/24), real hosts with TTL 64, sending requests with `flags`. */
export function httpClients(pps: number, flags: Partial<TcpFlagRates>, dstPort = 80): Component {
  const sources = Array.from({ length: 254 }, (_, i) => `198.19.80.${i + 1}`);
  return { pps, proto: 'tcp', bytes: 120, flags, dstPort, ttl: [64], sources, distinct: 254 };
}

/** A web server's ordinary traffic on port 80: requests on established connections, a few handshakes. */
export function webNormal(pps: number): Component[] {
  const ttl = [52, 55, 57, 60, 113, 116, 119];
  return [
    { pps, proto: 'tcp', bytes: 500, flags: { syn: 0.05, ack: 0.95, psh: 0.4, fin: 0.05 }, dstPort: 80, ttl, distinct: 800 },
    { pps: pps * 0.05, proto: 'icmp', bytes: 84, ttl, distinct: 10 },
  ];
}

function lenBucket(b: number): number {
  const edges = [64, 128, 256, 512, 1024, 1500];
  const i = edges.findIndex((e) => b <= e);
  return i < 0 ? 6 : i;
}

export function sample(t: number, comps: readonly Component[], intervalMs = TICK): TrafficSample {
  const sec = intervalMs / 1000;
  const s: TrafficSample = {
    timestampMs: t,
    intervalMs,
    pps: 0,
    bps: 0,
    protoPps: { tcp: 0, udp: 0, icmp: 0, other: 0 },
    protoBps: { tcp: 0, udp: 0, icmp: 0, other: 0 },
    tcpFlags: { syn: 0, synack: 0, ack: 0, fin: 0, rst: 0, psh: 0, urg: 0, null: 0, xmas: 0 },
    fragmentsPps: 0,
    malformedPps: 0,
    droppedPps: 0,
    distinctSources: 0,
    windowMs: 1000,
    ttlHistogram: [],
    lengthHistogram: [],
    topSources: [],
    topTcpDstPorts: [],
    topUdpDstPorts: [],
    topUdpSrcPorts: [],
  };
  const ttl = new Array<number>(256).fill(0);
  const len = new Array<number>(7).fill(0);
  const srcs = new Map<string, number>();
  const tcpDst = new Map<number, number>();
  const udpDst = new Map<number, number>();
  const udpSrc = new Map<number, number>();
  const add = <K>(m: Map<K, number>, k: K, v: number): void => {
    m.set(k, (m.get(k) ?? 0) + v);
  };
  for (const c of comps) {
    const bytes = c.bytes ?? 100;
    s.pps += c.pps;
    s.bps += c.pps * bytes * 8;
    s.protoPps[c.proto] += c.pps;
    s.protoBps[c.proto] += c.pps * bytes * 8;
    for (const [k, share] of Object.entries(c.flags ?? {})) s.tcpFlags[k as keyof TcpFlagRates] += c.pps * share;
    s.fragmentsPps += c.pps * (c.frag ?? 0);
    const later = c.proto === 'udp' ? c.pps * (c.laterFrag ?? 0) : 0;
    s.udpLaterFragmentsPps = (s.udpLaterFragmentsPps ?? 0) + later;
    s.distinctSources += c.distinct ?? 1;
    const n = c.pps * sec;
    if (c.ttl === 'random') for (let i = 0; i < 256; i++) ttl[i] = (ttl[i] ?? 0) + n / 256;
    else for (const v of c.ttl ?? [60]) ttl[v] = (ttl[v] ?? 0) + n / (c.ttl?.length ?? 1);
    const lb = lenBucket(bytes);
    len[lb] = (len[lb] ?? 0) + n;
    const heavy = c.sources ?? [];
    for (const ip of heavy) add(srcs, ip, (c.pps * (c.sourceShare ?? 1)) / heavy.length);
    if (c.proto === 'tcp' && c.dstPort !== undefined) add(tcpDst, c.dstPort, c.pps);
    if (c.proto === 'udp' && c.dstPort !== undefined) add(udpDst, c.dstPort, c.pps - later);
    if (c.proto === 'udp' && c.srcPort !== undefined) add(udpSrc, c.srcPort, c.pps - later);
  }
  const top = <K>(m: Map<K, number>): [K, number][] => [...m.entries()].sort((a, b) => b[1] - a[1]).slice(0, 10);
  s.ttlHistogram = ttl;
  s.lengthHistogram = len;
  s.topSources = top(srcs).map(([ip, count]) => ({ ip, count }));
  const ports = (m: Map<number, number>): PortCount[] => top(m).map(([port, count]) => ({ port, count }));
  s.topTcpDstPorts = ports(tcpDst);
  s.topUdpDstPorts = ports(udpDst);
  s.topUdpSrcPorts = ports(udpSrc);
  return s;
}

/** Pushes one tick every TICK ms in (from, to], traffic given by `at(t)` (`edit` may change each sample); returns all events. */
export function run(
  d: Detector,
  from: number,
  to: number,
  at: (t: number) => Component[],
  edit?: (s: TrafficSample) => void,
): DetectorEvent[] {
  const out: DetectorEvent[] = [];
  for (let t = from + TICK; t <= to; t += TICK) {
    const s = sample(t, at(t));
    edit?.(s);
    out.push(...d.push(s));
  }
  return out;
}

export const scale = (comps: Component[], k: number): Component[] => comps.map((c) => ({ ...c, pps: c.pps * k }));
