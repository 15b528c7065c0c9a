// Golden packets through BPF_PROG_TEST_RUN: each protocol, TCP flag pattern,
// VLAN depth and IPv6 extension chain moves exactly the counters it should.
import test from 'ava';
import { Breakwater, XDP_PASS } from '../../native/index.ts';
import { fragments4, fragments6 } from '../helpers/fragments.ts';
import { eth, icmp, ipv4, ipv6, raw, tcp, udp } from '../helpers/packets.ts';
import { isRoot, requireOrSkip } from '../helpers/privileged.ts';
import { canLoadXdp, run } from '../helpers/xdp.ts';

if (requireOrSkip(test, isRoot, canLoadXdp)) {
  const bw = Breakwater.loadForTest();
  bw.setTalkerSampling(1);
  test.after.always(() => bw.close());

  test.serial('IPv4 UDP: family, protocol, bytes, size bucket, TTL, verdict', (t) => {
    const frame = eth(ipv4(udp({ dport: 53, payload: 18 }), { ttl: 57 }));
    const d = run(bw, frame);
    t.is(d.retval, XDP_PASS);
    t.deepEqual(d.counters, { packets: 1, bytes: frame.length, ipv4: 1, udp: 1, udpBytes: frame.length, passed: 1 });
    t.deepEqual(d.ttl, { 57: 1 });
    t.deepEqual(d.len, { 0: 1 });
  });

  const flagCases: [string, number, Record<string, number>][] = [
    ['SYN', 0x02, { tcpSyn: 1 }],
    ['SYN-ACK', 0x12, { tcpSynAck: 1 }],
    ['ACK', 0x10, { tcpAck: 1 }],
    ['FIN-ACK', 0x11, { tcpAck: 1, tcpFin: 1 }],
    ['RST', 0x04, { tcpRst: 1 }],
    ['PSH-ACK', 0x18, { tcpAck: 1, tcpPsh: 1 }],
    ['URG', 0x20, { tcpUrg: 1 }],
    ['null', 0x00, { tcpNull: 1 }],
    ['xmas', 0x29, { tcpFin: 1, tcpPsh: 1, tcpUrg: 1, tcpXmas: 1 }],
  ];
  for (const [name, flags, expected] of flagCases) {
    test.serial(`TCP ${name}`, (t) => {
      const frame = eth(ipv4(tcp({ flags })));
      const d = run(bw, frame);
      t.deepEqual(d.counters, { packets: 1, bytes: frame.length, ipv4: 1, tcp: 1, tcpBytes: frame.length, passed: 1, ...expected });
    });
  }

  test.serial('ICMP and ICMPv6 count as icmp in their family', (t) => {
    const f4 = eth(ipv4(icmp()));
    const f6 = eth(ipv6(icmp({ v6: true })));
    t.deepEqual(run(bw, f4).counters, { packets: 1, bytes: f4.length, ipv4: 1, icmp: 1, icmpBytes: f4.length, passed: 1 });
    t.deepEqual(run(bw, f6).counters, { packets: 1, bytes: f6.length, ipv6: 1, icmp: 1, icmpBytes: f6.length, passed: 1 });
  });

  test.serial('IPv4 with options, other IP protocol, and non-IP', (t) => {
    const opts = eth(ipv4(tcp({ flags: 0x10 }), { ihl: 7 }));
    t.deepEqual(run(bw, opts).counters, { packets: 1, bytes: opts.length, ipv4: 1, tcp: 1, tcpBytes: opts.length, tcpAck: 1, passed: 1 });
    const gre = eth(ipv4(raw(47, Buffer.alloc(24))));
    t.deepEqual(run(bw, gre).counters, { packets: 1, bytes: gre.length, ipv4: 1, otherIp: 1, passed: 1 });
    const arp = eth(Buffer.alloc(28), { type: 0x0806 });
    t.deepEqual(run(bw, arp).counters, { packets: 1, bytes: arp.length, nonIp: 1, passed: 1 });
  });

  for (const vlans of [[0x8100], [0x88a8, 0x8100], [0x8100, 0x8100]]) {
    test.serial(`VLAN ${vlans.map((v) => v.toString(16)).join('+')}`, (t) => {
      const frame = eth(ipv4(udp()), { vlans });
      t.deepEqual(run(bw, frame).counters, {
        packets: 1,
        bytes: frame.length,
        vlan: 1,
        ipv4: 1,
        udp: 1,
        udpBytes: frame.length,
        passed: 1,
      });
    });
  }

  test.serial('IPv6 through hop-by-hop, routing, destination options and AH to UDP', (t) => {
    const frame = eth(ipv6(udp(), { ext: [{ type: 0 }, { type: 43 }, { type: 60 }, { type: 51 }], hopLimit: 200 }));
    const d = run(bw, frame);
    t.deepEqual(d.counters, { packets: 1, bytes: frame.length, ipv6: 1, udp: 1, udpBytes: frame.length, passed: 1 });
    t.deepEqual(d.ttl, { 200: 1 });
  });

  test.serial('first fragments count as fragments and as L4', (t) => {
    const v4 = eth(ipv4(udp(), { mf: true }));
    t.deepEqual(run(bw, v4).counters, { packets: 1, bytes: v4.length, ipv4: 1, fragments: 1, udp: 1, udpBytes: v4.length, passed: 1 });
    const v6 = eth(ipv6(tcp(), { ext: [{ type: 44, fragOffset: 0, more: true }] }));
    t.deepEqual(run(bw, v6).counters, {
      packets: 1,
      bytes: v6.length,
      ipv6: 1,
      fragments: 1,
      tcp: 1,
      tcpBytes: v6.length,
      tcpSyn: 1,
      passed: 1,
    });
  });

  test.serial('a large UDP datagram in fragments: the first counts as UDP with its ports, the rest as UDP fragments without ports', (t) => {
    for (const [frag, family] of [
      [fragments4, 'ipv4'],
      [fragments6, 'ipv6'],
    ] as const) {
      bw.rotateWindow();
      bw.rotateWindow();
      // A memcached answer: from port 11211, its UDP length (4,008) the whole datagram's.
      const frames = frag(udp({ sport: 11211, dport: 40001, payload: 4000 }), { src: family === 'ipv4' ? '198.18.7.9' : '2001:db8::79' });
      t.is(frames.length, 3);
      const [first, ...later] = frames.map((f) => run(bw, f));
      t.deepEqual(first?.counters, {
        packets: 1,
        bytes: frames[0]!.length,
        [family]: 1,
        fragments: 1,
        udp: 1,
        udpBytes: frames[0]!.length,
        passed: 1,
      });
      // Later fragments: UDP by their IP header, without ports (a fragmented flood shows as the protocol it is).
      for (const [i, d] of later.entries()) {
        const bytes = frames[i + 1]!.length;
        t.deepEqual(d.counters, { packets: 1, bytes, [family]: 1, fragments: 1, udp: 1, udpLaterFragments: 1, udpBytes: bytes, passed: 1 });
      }
      const s = bw.snapshot(4);
      t.deepEqual(
        s.topSources.map((x) => x.packets),
        [3],
        'every fragment counts for its source',
      );
      t.deepEqual(s.topPorts.map((p) => `${p.kind}:${p.port}=${p.packets}`).sort(), ['udpDst:40001=1', 'udpSrc:11211=1']);
    }
  });

  test.serial('length histogram bucket edges', (t) => {
    // Frame lengths: 14 (eth) + 20 (ip) + 8 (udp) + payload.
    const sizes: [number, number][] = [
      [64, 0],
      [65, 1],
      [128, 1],
      [129, 2],
      [256, 2],
      [257, 3],
      [512, 3],
      [513, 4],
      [1024, 4],
      [1025, 5],
      [1500, 5],
      [1501, 6],
      [2000, 6],
    ];
    for (const [size, bucket] of sizes) {
      const frame = eth(ipv4(udp({ payload: size - 42 })));
      t.is(frame.length, size);
      t.deepEqual(run(bw, frame).len, { [bucket]: 1 }, `frame of ${size} bytes`);
    }
  });

  test.serial('top talkers and ports are exact when every packet is sampled', (t) => {
    bw.rotateWindow();
    bw.rotateWindow();
    bw.testRun(eth(ipv4(udp({ sport: 123, dport: 4444 }), { src: '198.18.7.7' })), 50);
    bw.testRun(eth(ipv4(tcp({ dport: 443 }), { src: '198.18.7.8' })), 20);
    bw.testRun(eth(ipv6(udp({ sport: 53, dport: 5353 }), { src: '2001:db8::77' })), 5);
    const s = bw.snapshot(3);
    t.deepEqual(
      s.topSources.map((x) => [x.ip, x.packets]),
      [
        ['198.18.7.7', 50],
        ['198.18.7.8', 20],
        ['2001:db8::77', 5],
      ],
    );
    const ports = s.topPorts.map((p) => `${p.kind}:${p.port}=${p.packets}`);
    t.deepEqual(ports.slice(0, 3).sort(), ['tcpDst:443=20', 'udpDst:4444=50', 'udpSrc:123=50'].sort());
    t.true(ports.includes('udpSrc:53=5') && ports.includes('udpDst:5353=5'));
    // After a window roll the counts move to prev*.
    bw.rotateWindow();
    const next = bw.snapshot(1);
    t.is(next.topSources[0]?.prevPackets, 50);
    t.is(next.topSources[0]?.packets, 0);
  });

  test.serial('distinct sources: the HyperLogLog estimate is within 5%', (t) => {
    bw.rotateWindow();
    const n = 3000;
    for (let i = 0; i < n; i++) bw.testRun(eth(ipv4(udp(), { src: `198.${18 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}` })));
    const est = bw.snapshot(0).distinctSources.current;
    t.true(Math.abs(est - n) / n < 0.05, `estimate ${est} for ${n}`);
    bw.rotateWindow();
    t.is(bw.snapshot(0).distinctSources.previous, est);
    t.is(bw.snapshot(0).distinctSources.current, 0);
  });
}
