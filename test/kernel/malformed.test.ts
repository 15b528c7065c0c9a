// The malformed matrix: whatever the program cannot parse is passed, counted
// as malformed (or as a fragment), and moves no L4 counter.
import test from 'ava';
import { Breakwater, limits, XDP_PASS } from '../../native/index.ts';
import { eth, icmp, ipv4, ipv6, tcp, udp } from '../helpers/packets.ts';
import { isRoot, requireOrSkip } from '../helpers/privileged.ts';
import { canLoadXdp, run } from '../helpers/xdp.ts';

const L4_COUNTERS = ['tcp', 'udp', 'icmp', 'otherIp', 'tcpSyn', 'tcpSynAck', 'tcpAck', 'tcpFin', 'tcpRst', 'tcpPsh', 'tcpUrg', 'tcpNull', 'tcpXmas'] as const;

if (requireOrSkip(test, isRoot, canLoadXdp)) {
  const bw = Breakwater.loadForTest();
  test.after.always(() => bw.close());

  function malformed(t: import('ava').ExecutionContext, frame: Buffer, what: string): void {
    const d = run(bw, frame);
    t.is(d.retval, XDP_PASS, `${what}: passed`);
    t.is(d.counters.malformed, 1, `${what}: counted as malformed`);
    t.is(d.counters.passed, 1, `${what}: verdict pass`);
    for (const c of L4_COUNTERS) t.is(d.counters[c], undefined, `${what}: ${c} must not move`);
  }

  const whole: [string, Buffer][] = [
    ['IPv4/TCP', eth(ipv4(tcp({ flags: 0x02 })))],
    ['IPv4/UDP', eth(ipv4(udp()))],
    ['IPv4/ICMP', eth(ipv4(icmp()))],
    ['VLAN/IPv4/TCP with options', eth(ipv4(tcp({ doff: 8 }), { ihl: 6 }), { vlans: [0x88a8, 0x8100] })],
    ['IPv6 ext/UDP', eth(ipv6(udp(), { ext: [{ type: 0 }, { type: 60 }] }))],
    ['IPv6/TCP', eth(ipv6(tcp()))],
  ];
  for (const [name, frame] of whole) {
    test.serial(`${name}: truncated at every byte is malformed`, (t) => {
      // BPF_PROG_TEST_RUN needs at least an Ethernet header's worth of data.
      for (let len = 14; len < frame.length; len++) malformed(t, frame.subarray(0, len), `${name} cut at ${len}`);
      t.is(run(bw, frame).counters.malformed, undefined, `${name} whole is well formed`);
    });
  }

  test.serial('bad IPv4 headers', (t) => {
    malformed(t, eth(ipv4(tcp(), { ihl: 4 })), 'IHL 4');
    malformed(t, eth(ipv4(tcp(), { ihl: 15 })).subarray(0, 14 + 40), 'IHL 15 past the frame');
    malformed(t, eth(ipv4(udp(), { version: 5 })), 'version 5 under ethertype IPv4');
    malformed(t, eth(ipv4(udp(), { totLen: 200 })), 'total length past the frame');
    malformed(t, eth(ipv4(udp(), { totLen: 19 })), 'total length shorter than the header');
    // Total length shorter than the frame (Ethernet padding) hides the UDP header.
    malformed(t, eth(ipv4(udp(), { totLen: 24 })), 'L4 header past the total length');
  });

  test.serial('bad TCP data offset and UDP length', (t) => {
    malformed(t, eth(ipv4(tcp({ doff: 4 }))), 'TCP data offset 4');
    malformed(t, eth(ipv4(tcp({ doff: 15 }))).subarray(0, 14 + 20 + 40), 'TCP data offset past the frame');
    malformed(t, eth(ipv4(udp({ len: 7 }))), 'UDP length 7');
    malformed(t, eth(ipv4(udp({ len: 500 }))), 'UDP length past the datagram');
  });

  test.serial('non-first fragments: fragments, never L4, never malformed', (t) => {
    const v4 = eth(ipv4(tcp({ flags: 0x02 }), { fragOffset: 100 }));
    const d4 = run(bw, v4);
    t.deepEqual(d4.counters, { packets: 1, bytes: v4.length, ipv4: 1, fragments: 1, passed: 1 });
    const v6 = eth(ipv6(udp(), { ext: [{ type: 0 }, { type: 44, fragOffset: 185 }] }));
    const d6 = run(bw, v6);
    t.deepEqual(d6.counters, { packets: 1, bytes: v6.length, ipv6: 1, fragments: 1, passed: 1 });
  });

  test.serial('IPv6 payload length zero or past the frame', (t) => {
    malformed(t, eth(ipv6(udp(), { payloadLen: 0 })), 'payload length 0');
    malformed(t, eth(ipv6(udp(), { payloadLen: 300 })), 'payload length past the frame');
  });

  test.serial('extension chains and VLAN stacks past the limit', (t) => {
    const max = limits.maxExtensionHeaders;
    const ok = eth(ipv6(udp(), { ext: Array.from({ length: max }, () => ({ type: 60 })) }));
    t.is(run(bw, ok).counters.udp, 1, `${max} extension headers are walked`);
    malformed(t, eth(ipv6(udp(), { ext: Array.from({ length: max + 1 }, () => ({ type: 60 })) })), `${max + 1} extension headers`);
    const vlans = Array.from({ length: limits.maxVlanTags + 1 }, () => 0x8100);
    malformed(t, eth(ipv4(udp()), { vlans }), `${vlans.length} VLAN tags`);
  });
}
