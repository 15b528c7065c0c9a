/**
 * Classification of an incident into a SPEC family, a sub-type and its
 * vectors, from the excess of each rate over the normal profile (the rules
 * are listed in docs/detection.md). Pure: aggregate and profile in, result out.
 */
import { REFLECTION_SUBTYPES, type VectorSubtype } from '../../contract/enums.ts';
import { type Aggregate, dominantPort } from './aggregate.ts';
import { FEATURES, type FeatureRates, zeroRates } from './profile.ts';
import type { AttackFamily, Vector } from './types.ts';

/** UDP source ports of amplification reflectors, and their sub-types (the contract's list). */
export const REFLECTION_PORTS: ReadonlyMap<number, VectorSubtype> = new Map(
  Object.entries(REFLECTION_SUBTYPES).map(([p, s]) => [Number(p), s]),
);

export const WEB_PORTS: ReadonlySet<number> = new Set([80, 443, 8080, 8443]);

/** Share of a protocol's packets one port must carry to name the sub-type. */
const PORT_SHARE = 0.5;
/** Share of the TCP excess a flag must carry to be a TCP vector. */
const TCP_FLAG_SHARE = 0.25;

export interface Classification {
  family: AttackFamily;
  subtype: string;
  vectors: Vector[];
}

export function classify(a: Aggregate, normal: FeatureRates, vectorShare: number): Classification {
  const sec = a.ms / 1000;
  if (sec <= 0) return { family: 'unknown', subtype: 'unknown', vectors: [] };
  const rate = zeroRates();
  const ex = zeroRates();
  for (const f of FEATURES) {
    rate[f] = a.featurePackets[f] / sec;
    ex[f] = Math.max(0, rate[f] - normal[f]);
  }
  let e = ex;
  if (e.tcp + e.udp + e.icmp + e.other <= 0) e = rate; // nothing above normal: judge raw rates
  const total = e.tcp + e.udp + e.icmp + e.other;

  const vectors: Vector[] = [...tcpVectors(a, e)];
  if (e.udp > 0) vectors.push(udpVector(a, e));
  if (e.icmp > 0) vectors.push({ family: 'icmp_flood', subtype: 'icmp', pps: e.icmp });
  if (e.other > 0) vectors.push({ family: 'unknown', subtype: 'ip_other', pps: e.other });
  vectors.sort((x, y) => y.pps - x.pps);

  const significant = vectors.filter((v) => total > 0 && v.pps >= vectorShare * total);
  if (significant.length >= 2) {
    return { family: 'multi_vector', subtype: significant.map((v) => v.subtype).join('+'), vectors: significant };
  }
  const main = significant[0] ?? vectors[0];
  if (!main) return { family: 'unknown', subtype: 'unknown', vectors: [] };
  return { family: main.family, subtype: main.subtype, vectors: [main] };
}

function udpVector(a: Aggregate, e: FeatureRates): Vector {
  const udpPackets = a.featurePackets.udp;
  const src = dominantPort(a, 'udpSrc', udpPackets);
  const dst = dominantPort(a, 'udpDst', udpPackets);
  if (src && src.share >= PORT_SHARE && src.port === 53) {
    return { family: 'dns_flood', subtype: 'dns_reflection', pps: e.udp };
  }
  if (dst && dst.share >= PORT_SHARE && dst.port === 53) {
    return { family: 'dns_flood', subtype: 'dns_query', pps: e.udp };
  }
  const refl = src && src.share >= PORT_SHARE ? REFLECTION_PORTS.get(src.port) : undefined;
  if (refl) return { family: 'udp_flood', subtype: refl, pps: e.udp };
  if (e.frag >= PORT_SHARE * e.udp) return { family: 'udp_flood', subtype: 'udp_fragment', pps: e.udp };
  return { family: 'udp_flood', subtype: 'udp_generic', pps: e.udp };
}

function tcpVectors(a: Aggregate, e: FeatureRates): Vector[] {
  if (e.tcp <= 0) return [];
  const data = Math.max(0, e.psh - e.xmas);
  const http = httpVectors(a, e, data);
  if (http) return http;
  const flags: [Vector['family'], Vector['subtype'], number][] = [
    ['syn_flood', 'syn', e.syn],
    ['syn_flood', 'synack', e.synack],
    ['unknown', 'ack', Math.max(0, e.ack - e.psh - e.rst - e.fin)],
    ['unknown', 'rst', e.rst],
    ['unknown', 'fin', Math.max(0, e.fin - e.xmas)],
    ['unknown', 'xmas', e.xmas],
    ['unknown', 'null', e.null],
    ['unknown', 'psh_ack', data],
  ];
  const out: Vector[] = flags
    .filter(([, , pps]) => pps >= TCP_FLAG_SHARE * e.tcp)
    .map(([family, subtype, pps]) => ({ family, subtype, pps: Math.min(pps, e.tcp) }));
  return out.length > 0 ? out : [{ family: 'unknown', subtype: 'tcp_other', pps: e.tcp }];
}

/** Share of an HTTP vector's packets that must carry data (PSH without XMAS). */
const HTTP_DATA_SHARE = 0.15;

/**
 * Requests on established connections to web ports: the data packets with
 * the handshakes, ACKs and FINs around them are one HTTP vector. A client
 * opens at most one connection per request it sends, so SYNs beyond the data
 * packets are not the HTTP flood's: when they carry a quarter of the TCP
 * excess they are a SYN flood beside it (multi_vector http+syn), and a SYN
 * flood on a busy web server, with no data of its own, stays a SYN flood.
 * Null when what is left is not mostly data-carrying web-port traffic.
 */
function httpVectors(a: Aggregate, e: FeatureRates, data: number): Vector[] | null {
  const synFlood = Math.min(e.tcp, Math.max(0, e.syn - data));
  const separate = synFlood >= TCP_FLAG_SHARE * e.tcp;
  const http = separate ? e.tcp - synFlood : e.tcp;
  if (http < TCP_FLAG_SHARE * e.tcp || data < HTTP_DATA_SHARE * http) return null;
  if (webShare(a) < PORT_SHARE * (http / e.tcp)) return null;
  const out: Vector[] = [{ family: 'http_flood', subtype: 'http', pps: http }];
  if (separate) out.push({ family: 'syn_flood', subtype: 'syn', pps: synFlood });
  return out;
}

/** Share of the incident's TCP packets the web ports carry together (talker estimates). */
function webShare(a: Aggregate): number {
  const tcp = a.featurePackets.tcp;
  if (tcp <= 0) return 0;
  let web = 0;
  for (const port of WEB_PORTS) web += a.portPackets.tcpDst.get(port) ?? 0;
  return Math.min(1, web / tcp);
}
