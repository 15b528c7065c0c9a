/**
 * Builds the SPEC incident fields, and the detector's extensions, from an
 * incident's aggregate. Fields the counters cannot know (geo, IOC matches,
 * botnet) are left empty, never guessed: the agent's forensics over packet
 * samples fill them (agent/packets). The distinct sources are the union of
 * the incident's windows (their estimator's registers merged), not the
 * largest window's; a top source the agent saw in normal traffic before the
 * attack is marked `normal`, so nobody blocks a legitimate client that
 * happens to be the heaviest source of a spoofed flood.
 */
import { estimateDistinct } from '../../native/hll.ts';
import { type Aggregate, topOf } from './aggregate.ts';
import type { Classification } from './classify.ts';
import { peakRatio, severityOf } from './severity.ts';
import { judgeSpoofing } from './spoofing.ts';
import type { Thresholds } from './thresholds.ts';
import type { IncidentFields } from './types.ts';

/** Sources reported: all the kernel's talker read holds (32), so that a reflection from 16 or 30 reflectors is named whole. */
const TOP_SOURCES = 32;
const TOP_PORTS = 10;

const FLAG_NAMES = [
  ['SYN', 'syn'],
  ['SYNACK', 'synack'],
  ['ACK', 'ack'],
  ['FIN', 'fin'],
  ['RST', 'rst'],
  ['PSH', 'psh'],
  ['URG', 'urg'],
  ['NULL', 'null'],
  ['XMAS', 'xmas'],
] as const;

export function buildFields(a: Aggregate, c: Classification, thr: Thresholds, normal: { has(ip: string): boolean }): IncidentFields {
  const fp = a.featurePackets;
  const l4 = fp.tcp + fp.udp + fp.icmp + fp.other;
  const pct = (n: number): number => (l4 > 0 ? Math.round((1000 * n) / l4) / 10 : 0);
  const flags: Record<string, number> = {};
  for (const [name, key] of FLAG_NAMES) flags[name] = Math.round(fp[key]);

  const ports = new Map<number, number>();
  for (const kind of ['tcpDst', 'udpDst'] as const) {
    for (const [port, n] of a.portPeak[kind]) ports.set(port, (ports.get(port) ?? 0) + n);
  }
  const spoof = judgeSpoofing({
    ttlHistogram: a.ttl,
    distinctSources: a.maxDistinct,
    windowPackets: a.windowPacketsAtMaxDistinct,
  });
  return {
    attack_family: c.family,
    severity: severityOf(peakRatio(a.peakPps, a.peakBps, thr.pps, thr.bps)),
    peak_pps: Math.round(a.peakPps),
    peak_bps: Math.round(a.peakBps),
    protocol_breakdown: { tcp: pct(fp.tcp), udp: pct(fp.udp), icmp: pct(fp.icmp), other: pct(fp.other) },
    tcp_flag_breakdown: flags,
    geo_breakdown: {},
    source_ip_count: a.hll ? estimateDistinct(a.hll) : Math.round(a.maxDistinct),
    top_src_ips: topOf(a.srcPeak, TOP_SOURCES).map(([ip, count]) => ({
      ip,
      count: Math.round(count),
      ...(normal.has(ip) ? { normal: true } : {}),
    })),
    top_dst_ports: topOf(ports, TOP_PORTS).map(([port, count]) => ({ port, count: Math.round(count) })),
    ioc_matches: [],
    spoofing_detected: spoof.spoofed,
    botnet_detected: false,
    vectors: c.vectors.map((v) => ({ family: v.family, subtype: v.subtype, pps: Math.round(v.pps) })),
    length_histogram: a.length.map(Math.round),
    ttl_histogram: Object.fromEntries(a.ttl.flatMap((n, ttl) => (n >= 0.5 ? [[String(ttl), Math.round(n)]] : []))),
    fragments: Math.round(a.fragments),
    malformed: Math.round(a.malformed),
    dropped: Math.round(a.dropped),
  };
}
