// Fragmented datagrams, two ways: frames cut exactly as the kernel cuts them
// (for BPF_PROG_TEST_RUN), and real ones, a large UDP send in a lab namespace
// that the sending kernel fragments itself on the veth (MTU 1500).

import { type Lab, udpDelivered } from './netns.ts';
import { eth, ipv4, ipv6, type L4, raw } from './packets.ts';

/** The fragments of one IPv4 datagram carrying l4, first to last, as Ethernet frames. */
export function fragments4(l4: L4, o: { src?: string; mtu?: number } = {}): Buffer[] {
  const step = ((o.mtu ?? 1500) - 20) & ~7;
  return cut(l4.bytes, step).map(([off, chunk, more]) => eth(ipv4(raw(l4.proto, chunk), { src: o.src, mf: more, fragOffset: off / 8 })));
}

/** The same for IPv6: a fragment header after the fixed header (the kernel's own shape). */
export function fragments6(l4: L4, o: { src?: string; mtu?: number } = {}): Buffer[] {
  const step = ((o.mtu ?? 1500) - 40 - 8) & ~7;
  return cut(l4.bytes, step).map(([off, chunk, more]) =>
    eth(ipv6(raw(l4.proto, chunk), { src: o.src, ext: [{ type: 44, fragOffset: off / 8, more }] })),
  );
}

function cut(bytes: Buffer, step: number): [number, Buffer, boolean][] {
  const out: [number, Buffer, boolean][] = [];
  for (let off = 0; off < bytes.length; off += step) out.push([off, bytes.subarray(off, off + step), off + step < bytes.length]);
  return out;
}

/** Lab addresses for IPv6 (createLab leaves the link IPv4-only). */
export function ipv6Addresses(lab: Lab): { victim: string; attacker: string } {
  const s = lab.victimIp.split('.')[2];
  return { victim: `2001:db8:${s}::1`, attacker: `2001:db8:${s}::2` };
}

/** Turns IPv6 on for the lab link: 2001:db8:S::1 (victim) and ::2, static neighbours, no DAD. */
export function enableIpv6(lab: Lab): void {
  const a = ipv6Addresses(lab);
  const mac = (ns: string, dev: string) => JSON.parse(lab.exec(ns, ['ip', '-j', 'link', 'show', dev]))[0].address as string;
  for (const [ns, dev, addr, peer, peerMac] of [
    [lab.victimNs, lab.victimIf, a.victim, a.attacker, mac(lab.attackerNs, lab.attackerIf)],
    [lab.attackerNs, lab.attackerIf, a.attacker, a.victim, lab.victimMac],
  ] as const) {
    lab.exec(ns, ['sysctl', '-qw', `net.ipv6.conf.${dev}.disable_ipv6=0`]);
    lab.exec(ns, ['ip', '-6', 'addr', 'add', `${addr}/64`, 'dev', dev, 'nodad']);
    lab.exec(ns, ['ip', '-6', 'neigh', 'replace', peer, 'lladdr', peerMac, 'dev', dev, 'nud', 'permanent']);
  }
}

/**
 * Sends `count` UDP datagrams of `size` payload bytes from the attacker's own
 * address to the victim (IPv4, or IPv6 with enableIpv6), through the
 * attacker's socket layer: the kernel fragments what exceeds the MTU. Paced
 * (a pause every 20 datagrams) so the veth ring never overflows; bounded by
 * count and a 20 s timeout.
 */
export function sendDatagrams(lab: Lab, o: { count: number; size: number; family?: 4 | 6; dport?: number }): void {
  const to = o.family === 6 ? ipv6Addresses(lab).victim : lab.victimIp;
  const script = `
    const s = require('node:dgram').createSocket('udp${o.family === 6 ? 6 : 4}');
    const buf = Buffer.alloc(${o.size}, 0x41);
    let sent = 0;
    const burst = () => {
      for (let i = 0; i < 20 && sent < ${o.count}; i++, sent++) s.send(buf, ${o.dport ?? 9}, '${to}');
      if (sent < ${o.count}) setTimeout(burst, 2); else setTimeout(() => s.close(), 20);
    };
    burst();`;
  lab.exec(lab.attackerNs, ['timeout', '20', process.execPath, '-e', script]);
}

/** UDP datagrams of a family that reached the victim's stack whole (reassembled), delivered or not. */
export function udpReachedVictim(lab: Lab, family: 4 | 6): number {
  if (family === 4) return udpDelivered(lab);
  const rows = lab
    .exec(lab.victimNs, ['cat', '/proc/net/snmp6'])
    .split('\n')
    .map((l) => l.trim().split(/\s+/));
  const at = (n: string) => Number(rows.find((r) => r[0] === n)?.[1] ?? 0);
  return at('Udp6InDatagrams') + at('Udp6NoPorts') + at('Udp6InErrors');
}
