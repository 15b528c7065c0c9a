// Test helpers over the lab's network (scripts/lab/topology.ts): counting what
// reached the victim's stack, sending exact numbers of packets with trafgen,
// and UDP floods at a rate (scripts/lab/traffic.ts).
import type { Lab } from '../../scripts/lab/topology.ts';
import { ipv4Packet, SPOOFED_SOURCES, trafgen } from '../../scripts/lab/traffic.ts';

export { createLab, type Lab, sweep } from '../../scripts/lab/topology.ts';

/** The victim's kernel count of UDP datagrams that reached the stack (delivered or no port). */
export function udpDelivered(lab: Lab): number {
  const snmp = lab
    .exec(lab.victimNs, ['cat', '/proc/net/snmp'])
    .split('\n')
    .filter((l) => l.startsWith('Udp:'));
  const names = snmp[0]!.split(/\s+/),
    values = snmp[1]!.split(/\s+/).map(Number);
  const at = (n: string) => values[names.indexOf(n)] ?? 0;
  return at('InDatagrams') + at('NoPorts') + at('InErrors');
}

/**
 * Sends `count` copies of a UDP packet from the attacker with trafgen (bounded
 * in packets and by a 20 s timeout). srcIp may differ from the attacker's own.
 */
/** `count` UDP packets to the victim, back to back, or `gapMs` apart (a probe that must not look like a flood). */
export function sendUdp(
  lab: Lab,
  o: { count: number; srcIp?: string; dport?: number; sport?: number; payload?: number; gapMs?: number },
): void {
  const conf = `{
    eth(da=${lab.victimMac}, type=0x0800),
    ipv4(saddr=${o.srcIp ?? lab.attackerIp}, daddr=${lab.victimIp}, ttl=64),
    udp(sp=${o.sport ?? 40000}, dp=${o.dport ?? 9}),
    fill(0x41, ${o.payload ?? 18})
  }`;
  lab.exec(
    lab.attackerNs,
    [
      ...['timeout', '20', 'trafgen', '--dev', lab.attackerIf, '--in', '-', '-n', String(o.count), '-P', '1', '-C', '--no-sock-mem'],
      ...(o.gapMs ? ['-t', `${o.gapMs}ms`] : []),
    ],
    {
      input: conf,
      stdio: ['pipe', 'pipe', 'pipe'],
    },
  );
}

/** Sends each batch of sendUdp() and returns how many of the packets the victim's UDP layer received. */
export function udpReached(lab: Lab, ...sends: Parameters<typeof sendUdp>[1][]): number {
  const before = udpDelivered(lab);
  for (const o of sends) sendUdp(lab, o);
  return udpDelivered(lab) - before;
}

/**
 * A UDP flood from the attacker namespace: `pps` packets a second for
 * `seconds`, bounded by count and a timeout. `spoofed`: sources random in
 * 198.19.0.0/16 (inside the lab range; the victim's blackhole route eats any
 * answer). Returns the number of packets sent.
 */
export async function floodUdp(
  lab: Lab,
  o: { pps: number; seconds: number; spoofed?: boolean; dport?: number; sources?: string[] },
): Promise<number> {
  const srcs = o.spoofed ? [SPOOFED_SOURCES] : (o.sources ?? [lab.attackerIp]).map((a) => `saddr=${a}`);
  // One packet template per source: trafgen sends them in turn.
  const packets = srcs.map((src) =>
    ipv4Packet(lab, { src, proto: 'udp', l4: `udp(sp=40000, dp=${o.dport ?? 9})`, payload: 'fill(0x41, 18)' }),
  );
  await trafgen(lab, packets, o.pps, o.seconds).done;
  return Math.round(o.pps * o.seconds);
}
