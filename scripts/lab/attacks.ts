// The attacks the lab plays, each from a real tool in the attacker namespace
// and bounded in packets and seconds. `rule` is the drop rule an operator
// would create through the user API to stop it. The HTTP flood and the
// floods built from signature fixtures live in attacks-http.ts and
// attacks-signatures.ts.
import { HTTP_ATTACKS } from './attacks-http.ts';
import { SIGNATURE_ATTACKS } from './attacks-signatures.ts';
import type { Lab } from './topology.ts';
import { type Flow, hping3, ipv4Packet, SPOOFED_PREFIX, SPOOFED_SOURCES, together, trafgen } from './traffic.ts';

export type AttackKey = string;

export interface Attack {
  key: AttackKey;
  title: string;
  /** The family Breakwater should report (SPEC attack_family). */
  family: string;
  /** The sub-type it should report (extension attack_subtype), when the test checks it. */
  subtype?: string;
  /** The IOC matches (attack_name) it should report, and whether it is a botnet's; absent: none, and not. */
  ioc?: readonly string[];
  botnet?: boolean;
  /** The countries its sources are in, in the lab's test database (test/fixtures/geo, docs/geo.md). */
  countries: readonly string[];
  tool: string;
  /** Starts the flood at about `pps` packets a second for `seconds`. */
  start(lab: Lab, pps: number, seconds: number): Flow;
  /** What an operator drops through the user API (POST /api/v1/mitigations). */
  rule: { source: string; protocol?: 'tcp' | 'udp' | 'icmp' };
}

/**
 * The lab workspace's own IOC pattern (PATCH /workspace ioc_patterns): the
 * UDP flood's filler, 32 bytes of 'A' to the game-server port, so that every
 * run shows a workspace pattern matched beside the built-in signatures.
 */
export const LAB_IOC_PATTERNS = [
  { attack_name: 'lab UDP filler', attack_family: 'udp_flood', text: 'AAAAAAAAAAAAAAAA', offset: 0, protocol: 'udp', port: 27015 },
] as const;

/** The SYN flood's one spoofed source: hping3 cannot draw random sources inside the lab range. */
export const SYN_SOURCE = '198.19.6.6';
/** The "open resolvers" that reflect DNS answers at the victim. */
export const RESOLVERS = '198.19.53.0/24';

const udpFlood = (lab: Lab, pps: number, seconds: number) =>
  trafgen(
    lab,
    [ipv4Packet(lab, { src: SPOOFED_SOURCES, proto: 'udp', l4: 'udp(sp=drnd(), dp=27015)', payload: 'fill(0x41, 32)' })],
    pps,
    seconds,
  );

const synFlood = (lab: Lab, pps: number, seconds: number) =>
  hping3(lab, ['-S', '-p', '80', '-a', SYN_SOURCE, '-w', '64240'], lab.victimIp, pps, seconds);

export const ATTACKS: readonly Attack[] = [
  {
    key: 'udp',
    subtype: 'udp_generic',
    ioc: ['lab UDP filler'],
    countries: ['BR', 'JP'],
    title: 'UDP flood, random spoofed sources',
    family: 'udp_flood',
    tool: 'trafgen',
    start: udpFlood,
    rule: { source: SPOOFED_PREFIX, protocol: 'udp' },
  },
  {
    key: 'syn',
    subtype: 'syn',
    countries: ['BR'],
    title: 'TCP SYN flood on port 80',
    family: 'syn_flood',
    tool: 'hping3',
    start: synFlood,
    rule: { source: `${SYN_SOURCE}/32`, protocol: 'tcp' },
  },
  {
    key: 'icmp',
    subtype: 'icmp',
    countries: ['BR', 'JP'],
    title: 'ICMP echo flood, random spoofed sources',
    family: 'icmp_flood',
    tool: 'trafgen',
    start: (lab, pps, seconds) =>
      trafgen(
        lab,
        [
          ipv4Packet(lab, {
            src: SPOOFED_SOURCES,
            proto: 'icmp',
            l4: 'icmp4(echorequest, id=drnd(), seq=dinc())',
            payload: 'fill(0x42, 56)',
          }),
        ],
        pps,
        seconds,
      ),
    rule: { source: SPOOFED_PREFIX, protocol: 'icmp' },
  },
  {
    key: 'dns',
    subtype: 'dns_reflection',
    countries: ['ZA'],
    title: 'DNS reflection: 1,200-byte answers from 16 resolvers',
    family: 'dns_flood',
    tool: 'trafgen',
    start: (lab, pps, seconds) =>
      trafgen(
        lab,
        Array.from({ length: 16 }, (_, i) =>
          ipv4Packet(lab, { src: `saddr=198.19.53.${i + 1}`, proto: 'udp', l4: 'udp(sp=53, dp=drnd())', payload: 'drnd(1200)' }),
        ),
        pps,
        seconds,
      ),
    rule: { source: RESOLVERS, protocol: 'udp' },
  },
  {
    key: 'multi',
    subtype: 'udp_generic+syn',
    ioc: ['lab UDP filler'],
    countries: ['BR', 'JP'],
    title: 'multi-vector: spoofed UDP flood and SYN flood together',
    family: 'multi_vector',
    tool: 'trafgen + hping3',
    start: (lab, pps, seconds) => together([udpFlood(lab, pps / 2, seconds), synFlood(lab, pps / 2, seconds)]),
    rule: { source: SPOOFED_PREFIX },
  },
  ...HTTP_ATTACKS,
  ...SIGNATURE_ATTACKS,
];

export function attackByKey(key: string): Attack {
  const a = ATTACKS.find((x) => x.key === key);
  if (!a) throw new Error(`unknown attack '${key}': one of ${ATTACKS.map((x) => x.key).join(', ')}`);
  return a;
}
