// Sampled packet heads read in user space: addresses, ports, flags,
// fragments and where the payload starts, and heads cut short.
import test from 'ava';
import { parseHead } from '../../../agent/packets/head.ts';
import { eth, icmp, ipv4, ipv6, tcp, udp } from '../../helpers/packets.ts';

test('IPv4 UDP, TCP and ICMP: addresses, TTL, ports, flags, payload offset', (t) => {
  const u = parseHead(eth(ipv4(udp({ sport: 123, dport: 40000, payload: 20 }), { src: '198.18.0.7', dst: '198.18.0.1', ttl: 52 })));
  t.like(u, { family: 4, src: '198.18.0.7', dst: '198.18.0.1', ttl: 52, proto: 17, frag: 'none', sport: 123, dport: 40000, payload: 42 });
  const s = parseHead(eth(ipv4(tcp({ dport: 80, flags: 0x02 }))));
  t.like(s, { proto: 6, dport: 80, tcpFlags: 0x02, payload: 54 });
  t.like(parseHead(eth(ipv4(icmp({ type: 8 })))), { proto: 1, payload: 42 });
});

test('IPv6 with its addresses; VLAN tags are walked', (t) => {
  t.like(parseHead(eth(ipv6(udp({ dport: 53 }), { src: '2001:db8::7' }))), {
    family: 6,
    src: '2001:db8::7',
    proto: 17,
    dport: 53,
    payload: 62,
  });
  const tagged = eth(ipv4(udp({ dport: 9 }), { src: '198.18.0.9' }), { vlans: [0x8100, 0x8100] });
  t.like(parseHead(tagged), { src: '198.18.0.9', dport: 9, payload: 50 });
});

test('cut short: as much as the head holds; not IP: null', (t) => {
  const full = eth(ipv4(tcp({ dport: 443 }), { src: '198.18.0.3' }));
  t.like(parseHead(full.subarray(0, 40)), { src: '198.18.0.3', proto: 6 });
  t.is(parseHead(full.subarray(0, 40))?.dport, undefined);
  t.is(parseHead(full.subarray(0, 20)), null);
  t.is(parseHead(Buffer.alloc(60)), null, 'ethertype 0');
});
