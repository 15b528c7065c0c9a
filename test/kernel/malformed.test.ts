// The malformed matrix: whatever the program cannot parse in full counts as
// malformed and moves no L4 counter. Once its IP header can be read (the
// source is known) it meets the source rules: dropped from a blocked source,
// passed from another. With no readable IP header it is passed.
import test, { type ExecutionContext } from 'ava';
import { Breakwater, limits, XDP_DROP, XDP_PASS } from '../../native/index.ts';
import { eth, icmp, ipv4, ipv6, type L4, raw, tcp, udp } from '../helpers/packets.ts';
import { isRoot, requireOrSkip } from '../helpers/privileged.ts';
import { canLoadXdp, run } from '../helpers/xdp.ts';

// biome-ignore format: a list
const L4_COUNTERS = [
  'tcp', 'udp', 'icmp', 'otherIp', 'tcpSyn', 'tcpSynAck', 'tcpAck', 'tcpFin', 'tcpRst', 'tcpPsh', 'tcpUrg', 'tcpNull', 'tcpXmas',
] as const;

interface Src {
  v4: string;
  v6: string;
}
const CLEAN: Src = { v4: '198.18.0.2', v6: '2001:db8::2' };
const BLOCKED: Src = { v4: '198.19.66.6', v6: '2001:db8:bad::6' };
type Build = (s: Src) => Buffer;
const v4 =
  (l4: L4, o: Parameters<typeof ipv4>[1] = {}): Build =>
  (s) =>
    eth(ipv4(l4, { src: s.v4, ...o }));
const v6 =
  (l4: L4, o: Parameters<typeof ipv6>[1] = {}): Build =>
  (s) =>
    eth(ipv6(l4, { src: s.v6, ...o }));
const tags = (n: number) => Array.from({ length: n }, () => 0x8100);

if (requireOrSkip(test, isRoot, canLoadXdp)) {
  const bw = Breakwater.loadForTest();
  bw.addRule({ source: '198.19.0.0/16' });
  bw.addRule({ source: '2001:db8:bad::/48' });
  test.after.always(() => bw.close());

  function malformed(t: ExecutionContext, frame: Buffer, what: string, expect: 'pass' | 'drop'): void {
    const d = run(bw, frame);
    t.is(d.retval, expect === 'drop' ? XDP_DROP : XDP_PASS, `${what}: ${expect}`);
    t.is(d.counters.malformed, 1, `${what}: counted as malformed`);
    t.is(d.counters[expect === 'drop' ? 'dropped' : 'passed'], 1, `${what}: verdict ${expect}`);
    t.is(d.counters[expect === 'drop' ? 'passed' : 'dropped'], undefined, `${what}: one verdict`);
    for (const c of L4_COUNTERS) t.is(d.counters[c], undefined, `${what}: ${c} must not move`);
  }
  /** The IP header is readable: its source decides. */
  const sourceKnown = (t: ExecutionContext, build: Build, what: string) => {
    malformed(t, build(CLEAN), `${what}, unblocked source`, 'pass');
    malformed(t, build(BLOCKED), `${what}, blocked source`, 'drop');
  };
  /** No readable IP header: passed, whatever the bytes where a source would be. */
  const noSource = (t: ExecutionContext, build: Build, what: string) => {
    malformed(t, build(CLEAN), `${what}, unblocked source`, 'pass');
    malformed(t, build(BLOCKED), `${what}, blocked source`, 'pass');
  };

  // Each frame and where its fixed IP header ends (Ethernet, tags, 20 or 40 bytes).
  const whole: [string, Build, number][] = [
    ['IPv4/TCP', v4(tcp({ flags: 0x02 })), 34],
    ['IPv4/UDP', v4(udp()), 34],
    ['IPv4/ICMP', v4(icmp()), 34],
    ['VLAN/IPv4/TCP with options', (s) => eth(ipv4(tcp({ doff: 8 }), { ihl: 6, src: s.v4 }), { vlans: [0x88a8, 0x8100] }), 42],
    ['IPv6 ext/UDP', v6(udp(), { ext: [{ type: 0 }, { type: 60 }] }), 54],
    ['IPv6/TCP', v6(tcp()), 54],
  ];
  for (const [name, build, ipEnd] of whole) {
    test.serial(`${name}: cut at every byte is malformed; from a blocked source dropped once the IP header is whole`, (t) => {
      // BPF_PROG_TEST_RUN needs at least an Ethernet header's worth of data.
      for (let len = 14; len < build(CLEAN).length; len++) {
        malformed(t, build(CLEAN).subarray(0, len), `cut at ${len}, unblocked`, 'pass');
        malformed(t, build(BLOCKED).subarray(0, len), `cut at ${len}, blocked`, len >= ipEnd ? 'drop' : 'pass');
      }
      t.is(run(bw, build(CLEAN)).counters.malformed, undefined, `${name} whole is well formed`);
      t.is(bw.testRun(build(BLOCKED)).retval, XDP_DROP);
    });
  }

  test.serial('IP headers: an unreadable one is passed; inconsistent lengths meet the source rules', (t) => {
    noSource(t, v4(tcp(), { ihl: 4 }), 'IHL 4');
    noSource(t, v4(udp(), { version: 5 }), 'version 5 under ethertype IPv4');
    noSource(t, (s) => v4(udp())(s).subarray(0, 14 + 19), 'IPv4 header cut at 19 bytes');
    noSource(t, (s) => Buffer.from(v6(udp())(s)).fill(0x40, 14, 15), 'version 4 under ethertype IPv6');
    sourceKnown(t, (s) => v4(tcp(), { ihl: 15 })(s).subarray(0, 14 + 40), 'IHL 15 past the frame');
    sourceKnown(t, v4(udp(), { totLen: 200 }), 'total length past the frame');
    sourceKnown(t, v4(udp(), { totLen: 19 }), 'total length shorter than the header');
    sourceKnown(t, v6(udp(), { payloadLen: 0 }), 'payload length 0');
    sourceKnown(t, v6(udp(), { payloadLen: 300 }), 'payload length past the frame');
  });

  test.serial('malformed L4 headers: passed from an unblocked source, dropped from a blocked one', (t) => {
    sourceKnown(t, v4(tcp({ doff: 4 })), 'TCP data offset 4');
    sourceKnown(t, v4(raw(6, tcp({ doff: 15 }).bytes.subarray(0, 20))), 'TCP data offset past the datagram');
    sourceKnown(t, v6(tcp({ doff: 3 })), 'IPv6, TCP data offset 3');
    sourceKnown(t, v4(raw(17, udp().bytes.subarray(0, 4))), 'UDP header truncated');
    sourceKnown(t, v4(udp({ len: 7 })), 'UDP length 7');
    sourceKnown(t, v4(udp({ len: 500 })), 'UDP length past the datagram');
    sourceKnown(t, v6(udp({ len: 500 })), 'IPv6, UDP length past the datagram');
    sourceKnown(t, v4(raw(1, icmp().bytes.subarray(0, 4))), 'ICMP truncated');
    sourceKnown(t, v6(raw(58, icmp({ v6: true }).bytes.subarray(0, 6))), 'ICMPv6 truncated');
    // Total length shorter than the frame (Ethernet padding) hides the UDP header.
    sourceKnown(t, v4(udp(), { totLen: 24 }), 'L4 header past the total length');
  });

  test.serial('extension chains and VLAN stacks past the limit', (t) => {
    const max = limits.maxExtensionHeaders;
    const chain = (n: number) => v6(udp(), { ext: Array.from({ length: n }, () => ({ type: 60 })) });
    t.is(run(bw, chain(max)(CLEAN)).counters.udp, 1, `${max} extension headers are walked`);
    sourceKnown(t, chain(max + 1), `${max + 1} extension headers`);
    sourceKnown(t, v6(raw(60, Buffer.alloc(1))), 'an extension header cut short');
    const seek = limits.maxVlanSeek;
    t.true(seek > limits.maxVlanTags);
    t.is(run(bw, eth(ipv4(udp()), { vlans: tags(limits.maxVlanTags) })).counters.udp, 1, `${limits.maxVlanTags} tags are parsed`);
    for (const n of [limits.maxVlanTags + 1, seek]) {
      sourceKnown(t, (s) => eth(ipv4(udp(), { src: s.v4 }), { vlans: tags(n) }), `${n} VLAN tags`);
      sourceKnown(t, (s) => eth(ipv6(tcp(), { src: s.v6 }), { vlans: tags(n) }), `${n} VLAN tags, IPv6`);
    }
    noSource(
      t,
      (s) => eth(ipv4(udp(), { src: s.v4 }), { vlans: tags(seek) }).subarray(0, 14 + 4 * seek + 19),
      `${seek} VLAN tags, IPv4 header cut`,
    );
    noSource(t, (s) => eth(ipv4(udp(), { src: s.v4 }), { vlans: tags(seek + 1) }), `${seek + 1} VLAN tags (past the seek bound)`);
    const d = run(bw, eth(ipv4(udp(), { src: BLOCKED.v4 }), { vlans: tags(seek) }));
    t.like(d.counters, { vlan: 1, ipv4: 1, malformed: 1, dropped: 1 });
    const arp = run(bw, eth(Buffer.alloc(28), { type: 0x0806, vlans: tags(limits.maxVlanTags + 1) }));
    t.deepEqual(arp.counters, { packets: 1, bytes: 14 + 12 + 28, vlan: 1, malformed: 1, passed: 1 }, 'non-IP under a deep stack');
  });

  test.serial(
    'non-first fragments: fragments of their protocol, never ports, never malformed; their data is not walked as headers',
    (t) => {
      const f4 = eth(ipv4(tcp({ flags: 0x02 }), { fragOffset: 100 }));
      // Counted by the protocol their IP (or fragment) header names, without flags or ports.
      t.deepEqual(run(bw, f4).counters, { packets: 1, bytes: f4.length, ipv4: 1, fragments: 1, tcp: 1, tcpBytes: f4.length, passed: 1 });
      const f6 = eth(ipv6(udp(), { ext: [{ type: 0 }, { type: 44, fragOffset: 185 }] }));
      t.deepEqual(run(bw, f6).counters, {
        packets: 1,
        bytes: f6.length,
        ipv6: 1,
        fragments: 1,
        udp: 1,
        udpLaterFragments: 1,
        udpBytes: f6.length,
        passed: 1,
      });
      // A later fragment of a datagram whose fragmentable part opens with
      // destination options: what follows the fragment header is data (0xff).
      const opts = eth(ipv6(raw(60, Buffer.alloc(40, 0xff)), { ext: [{ type: 44, fragOffset: 100 }] }));
      t.deepEqual(run(bw, opts).counters, { packets: 1, bytes: opts.length, ipv6: 1, fragments: 1, passed: 1 });
      for (const frame of [f4, f6, opts]) {
        const blocked = Buffer.from(frame);
        if (frame === f4) blocked.set([198, 19, 66, 6], 14 + 12);
        else blocked.set([0x20, 0x01, 0x0d, 0xb8, 0x0b, 0xad], 14 + 8);
        t.like(run(bw, blocked), { retval: XDP_DROP, counters: { fragments: 1, dropped: 1 } }, 'later fragments meet source rules');
      }
    },
  );
}
