// Floods built from the fixtures of the agent's built-in signatures (a
// botnet's packets, amplification traffic), so that the end-to-end test sees
// the signature match (ioc_matches, botnet_detected) on real packets. The
// fixtures (test/fixtures/ioc-packets.ts) are frames as parts; trafgen sends
// them as they are, drawing the random fields anew for each packet (drnd)
// and computing the checksums itself.
import type { Part } from '../../test/fixtures/frames.ts';
import { memcachedValueFragments, miraiSyn } from '../../test/fixtures/ioc-packets.ts';
import type { Attack } from './attacks.ts';
import type { Lab } from './topology.ts';
import { SPOOFED_PREFIX, trafgen } from './traffic.ts';

const hex = (b: number) => `0x${b.toString(16).padStart(2, '0')}`;

/** A frame's parts in trafgen's language; runs of 8 or more equal bytes as fill(). */
export function trafgenFrame(parts: readonly Part[]): string {
  const out: string[] = [];
  for (const p of parts) {
    if ('random' in p) out.push(`drnd(${p.random})`);
    else if ('csum' in p) out.push(p.csum === 'ip' ? `csumip(${p.from}, ${p.to})` : `csum${p.csum}(${p.ip}, ${p.l4})`);
    else {
      for (let i = 0; i < p.bytes.length; ) {
        let j = i;
        while (j < p.bytes.length && p.bytes[j] === p.bytes[i]) j++;
        if (j - i >= 8) out.push(`fill(${hex(p.bytes[i]!)}, ${j - i})`);
        else for (let k = i; k < j; k++) out.push(hex(p.bytes[k]!));
        i = j;
      }
    }
  }
  return `{ ${out.join(', ')} }`;
}

const ends = (lab: Lab) => ({ dst: lab.victimIp, dstMac: lab.victimMac });

/** Mirai's bots draw the MSS from 1400 to 1415: one template each, sent in turn. */
const miraiSynFlood = (lab: Lab, pps: number, seconds: number) =>
  trafgen(
    lab,
    Array.from({ length: 16 }, (_, i) => trafgenFrame(miraiSyn({ ...ends(lab), src: SPOOFED_PREFIX, mss: 1400 + i }))),
    pps,
    seconds,
  );

/** The memcached reflectors: 16 "open servers", each answer 3 fragments with the reflector's own IP id. */
export const MEMCACHED_REFLECTORS = '198.19.112.0/24';
const memcachedFlood = (lab: Lab, pps: number, seconds: number) =>
  trafgen(
    lab,
    Array.from({ length: 16 }, (_, i) =>
      memcachedValueFragments({ ...ends(lab), src: `198.19.112.${i + 1}`, id: 0x3a00 + i }).map(trafgenFrame),
    ).flat(),
    pps,
    seconds,
  );

export const SIGNATURE_ATTACKS: readonly Attack[] = [
  {
    key: 'mirai-syn',
    title: "Mirai SYN flood (attack_tcp.c's packets) from random bots in 198.19.0.0/16",
    family: 'syn_flood',
    subtype: 'syn',
    ioc: ['Mirai SYN flood'],
    botnet: true,
    countries: ['BR', 'JP'],
    tool: 'trafgen',
    start: miraiSynFlood,
    rule: { source: SPOOFED_PREFIX, protocol: 'tcp' },
  },
  {
    key: 'memcached-frag',
    title: 'fragmented memcached reflection: 4,041-byte answers from 16 reflectors, 3 fragments each',
    family: 'udp_flood',
    subtype: 'memcached_reflection',
    ioc: ['memcached response'],
    botnet: false,
    countries: ['BR'],
    tool: 'trafgen',
    start: memcachedFlood,
    rule: { source: MEMCACHED_REFLECTORS, protocol: 'udp' },
  },
];
