// Drop rules, the allowlist, expiry, log-only rules and the kill switch.
import test from 'ava';
import { Breakwater, limits, XDP_DROP, XDP_PASS } from '../../native/index.ts';
import { fragments4, fragments6 } from '../helpers/fragments.ts';
import { eth, icmp, ipv4, ipv6, tcp, udp } from '../helpers/packets.ts';
import { isRoot, requireOrSkip } from '../helpers/privileged.ts';
import { canLoadXdp, run } from '../helpers/xdp.ts';

const from = (src: string) => (src.includes(':') ? eth(ipv6(udp(), { src })) : eth(ipv4(udp(), { src })));
const verdict = (bw: Breakwater, src: string) => bw.testRun(from(src)).retval;

if (requireOrSkip(test, isRoot, canLoadXdp)) {
  test('IPv4 prefix boundaries: network, broadcast, neighbours, /32', (t) => {
    const bw = Breakwater.loadForTest();
    t.teardown(() => bw.close());
    bw.addRule({ source: '198.18.4.0/24' });
    bw.addRule({ source: '198.19.0.9/32' });
    t.is(verdict(bw, '198.18.4.0'), XDP_DROP);
    t.is(verdict(bw, '198.18.4.255'), XDP_DROP);
    t.is(verdict(bw, '198.18.3.255'), XDP_PASS);
    t.is(verdict(bw, '198.18.5.0'), XDP_PASS);
    t.is(verdict(bw, '198.19.0.9'), XDP_DROP);
    t.is(verdict(bw, '198.19.0.8'), XDP_PASS);
    t.is(verdict(bw, '198.19.0.10'), XDP_PASS);
  });

  test('a port rule from every source (/0, what auto-mitigation adds for a closed port) drops that port only', (t) => {
    const bw = Breakwater.loadForTest();
    t.teardown(() => bw.close());
    bw.addRule({ source: '0.0.0.0/0', protocol: 'udp', port: 27015 });
    bw.addRule({ source: '::/0', protocol: 'udp', port: 27015 });
    t.is(bw.testRun(eth(ipv4(udp({ dport: 27015 }), { src: '198.19.1.2' }))).retval, XDP_DROP);
    t.is(bw.testRun(eth(ipv4(udp({ dport: 27015 }), { src: '203.0.113.9' }))).retval, XDP_DROP);
    t.is(bw.testRun(eth(ipv6(udp({ dport: 27015 }), { src: '2001:db8::1' }))).retval, XDP_DROP);
    t.is(bw.testRun(eth(ipv4(udp({ dport: 27016 }), { src: '198.19.1.2' }))).retval, XDP_PASS);
    t.is(bw.testRun(eth(ipv4(tcp({ dport: 27015 }), { src: '198.19.1.2' }))).retval, XDP_PASS);
    bw.allow('198.19.1.0/24');
    t.is(bw.testRun(eth(ipv4(udp({ dport: 27015 }), { src: '198.19.1.2' }))).retval, XDP_PASS, 'the allowlist wins');
  });

  test('ICMP rules by type: echo request and reply dropped, errors (PMTU discovery) and NDP pass', async (t) => {
    const bw = Breakwater.loadForTest();
    t.teardown(() => bw.close());
    for (const type of [8, 0]) bw.addRule({ source: '0.0.0.0/0', protocol: 'icmp', icmpType: type });
    for (const type of [128, 129]) bw.addRule({ source: '::/0', protocol: 'icmp', icmpType: type });
    const v4 = (type: number) => bw.testRun(eth(ipv4(icmp({ type }), { src: '198.19.1.2' }))).retval;
    const v6 = (type: number) => bw.testRun(eth(ipv6(icmp({ v6: true, type }), { src: '2001:db8::1' }))).retval;
    t.is(v4(8), XDP_DROP);
    t.is(v4(0), XDP_DROP, 'type 0 is a type, not "no port"');
    t.is(v4(3), XDP_PASS, 'destination unreachable (fragmentation needed) passes');
    t.is(v4(11), XDP_PASS);
    t.is(v6(128), XDP_DROP);
    t.is(v6(129), XDP_DROP);
    for (const type of [2, 135, 136]) t.is(v6(type), XDP_PASS, `ICMPv6 type ${type} passes`);
    t.is(bw.testRun(eth(ipv4(udp({ dport: 0x108 }), { src: '198.19.1.2' }))).retval, XDP_PASS, 'a UDP port is not an ICMP type');
    const listed = bw
      .listRules()
      .map((r) => `${r.address}/${r.prefixLen}:${r.protocol}:${r.port}:${r.icmpType}:${r.packets}`)
      .sort();
    t.deepEqual(listed, ['0.0.0.0/0:icmp:0:0:1', '0.0.0.0/0:icmp:0:8:1', '::/0:icmp:0:128:1', '::/0:icmp:0:129:1']);
    t.true(bw.deleteRule({ source: '0.0.0.0/0', protocol: 'icmp', icmpType: 8 }));
    t.is(v4(8), XDP_PASS);
    t.throws(() => bw.addRule({ source: '0.0.0.0/0', protocol: 'udp', icmpType: 8 }), { message: /needs protocol icmp/ });
    t.throws(() => bw.addRule({ source: '0.0.0.0/0', protocol: 'icmp', icmpType: 256 }), { message: /0 to 255/ });
    t.throws(() => bw.addRule({ source: '0.0.0.0/0', protocol: 'icmp', port: 0x108 }), { message: /needs protocol tcp or udp/ });
    // A UDP rule on port 264 (0x108) is no ICMP rule, and the other way round.
    bw.addRule({ source: '0.0.0.0/0', protocol: 'udp', port: 0x108 });
    t.is(bw.testRun(eth(ipv4(udp({ dport: 0x108 }), { src: '198.19.1.2' }))).retval, XDP_DROP);
    t.is(v4(8), XDP_PASS, 'UDP port 264 does not drop ICMP type 8');
    // Expired ICMP-type rules are pruned and reported with their type.
    bw.addRule({ source: '198.19.9.0/24', protocol: 'icmp', icmpType: 8, expiresAt: Date.now() + 300 });
    t.is(bw.testRun(eth(ipv4(icmp({ type: 8 }), { src: '198.19.9.1' }))).retval, XDP_DROP);
    await new Promise((r) => setTimeout(r, 400));
    t.deepEqual(
      bw.pruneExpiredRules().map((r) => `${r.address}/${r.prefixLen}:${r.port}:${r.icmpType}`),
      ['198.19.9.0/24:0:8'],
    );
  });

  test('packets parsed in part: prefix rules match, protocol rules when the protocol is known, port rules only with an L4 header', (t) => {
    const bw = Breakwater.loadForTest();
    t.teardown(() => bw.close());
    bw.addRule({ source: '198.19.1.0/24', protocol: 'tcp', port: 80 });
    bw.addRule({ source: '198.19.2.0/24', protocol: 'tcp' });
    bw.addRule({ source: '198.19.3.0/24', protocol: 'udp' });
    bw.addRule({ source: '198.19.4.0/24', protocol: 'udp', port: 53 });
    bw.addRule({ source: '2001:db8:1::/48', protocol: 'udp' });
    bw.addRule({ source: '2001:db8:2::/48', protocol: 'udp', port: 53 });
    bw.addRule({ source: '2001:db8:3::/48' });
    const v = (frame: Buffer) => bw.testRun(frame).retval;
    const badTcp = (src: string) => eth(ipv4(tcp({ dport: 80, doff: 4 }), { src }));
    t.is(v(eth(ipv4(tcp({ dport: 80 }), { src: '198.19.1.1' }))), XDP_DROP, 'a sound TCP header meets the port rule');
    t.is(v(badTcp('198.19.1.1')), XDP_PASS, 'a port rule needs the TCP header');
    t.is(v(badTcp('198.19.2.1')), XDP_DROP, 'IPv4 names the protocol: the protocol rule matches');
    t.is(v(badTcp('198.19.3.1')), XDP_PASS, 'not the protocol of another rule');
    t.is(v(eth(ipv4(udp({ dport: 53, len: 7 }), { src: '198.19.4.1' }))), XDP_PASS, 'a bad UDP length hides the port');
    const max = limits.maxExtensionHeaders;
    const chain = (src: string) => eth(ipv6(udp({ dport: 53 }), { src, ext: Array.from({ length: max + 1 }, () => ({ type: 60 })) }));
    t.is(v(chain('2001:db8:1::1')), XDP_PASS, 'past the chain limit the protocol is unknown');
    t.is(v(chain('2001:db8:2::1')), XDP_PASS, 'and so is the port');
    t.is(v(chain('2001:db8:3::1')), XDP_DROP, 'a prefix rule matches');
    // Past BW_MAX_VLAN tags only the fixed IP header is read, to find the source.
    const vlans = Array(limits.maxVlanTags + 1).fill(0x8100);
    const deep4 = (src: string) => eth(ipv4(tcp({ dport: 80 }), { src }), { vlans });
    const deep6 = (src: string) => eth(ipv6(udp({ dport: 53 }), { src }), { vlans });
    t.like(run(bw, deep4('198.19.1.1')), { retval: XDP_PASS, counters: { malformed: 1, passed: 1 } }, 'a deep VLAN stack: no port rule');
    t.like(run(bw, deep4('198.19.2.1')), { retval: XDP_DROP, counters: { malformed: 1, dropped: 1 } }, 'IPv4 names the protocol');
    t.is(v(deep6('2001:db8:1::1')), XDP_PASS, 'IPv6 only after its chain, which is not walked');
    t.is(v(deep6('2001:db8:3::1')), XDP_DROP, 'a prefix rule matches');
    const hits = Object.fromEntries(bw.listRules().map((r) => [`${r.address}/${r.prefixLen}:${r.protocol}:${r.port}`, r.packets]));
    t.deepEqual(hits, {
      '198.19.1.0/24:tcp:80': 1,
      '198.19.2.0/24:tcp:0': 2,
      '198.19.3.0/24:udp:0': 0,
      '198.19.4.0/24:udp:53': 0,
      '2001:db8:1::/48:udp:0': 0,
      '2001:db8:2::/48:udp:53': 0,
      '2001:db8:3::/48:null:0': 2,
    });
  });

  test('fragments: the first meets port rules, every one source and protocol rules', (t) => {
    const bw = Breakwater.loadForTest();
    t.teardown(() => bw.close());
    for (const [v4, v6] of [
      ['198.19.1.0/24', '2001:db8:1::/48'],
      ['198.19.2.0/24', '2001:db8:2::/48'],
      ['198.19.3.0/24', '2001:db8:3::/48'],
    ] as const) {
      const shape = v4.startsWith('198.19.1.')
        ? { protocol: 'udp' as const, port: 11211 }
        : v4.startsWith('198.19.2.')
          ? { protocol: 'udp' as const }
          : {};
      bw.addRule({ source: v4, ...shape });
      bw.addRule({ source: v6, ...shape });
    }
    const big = (dport: number) => udp({ sport: 40000, dport, payload: 4000 });
    const verdicts = (frames: Buffer[]) => frames.map((f) => (bw.testRun(f).retval === XDP_DROP ? 'drop' : 'pass'));
    for (const [frag, net] of [
      [fragments4, '198.19'],
      [fragments6, '2001:db8'],
    ] as const) {
      const src = (n: number) => (net === '198.19' ? `198.19.${n}.7` : `2001:db8:${n}::7`);
      t.is(frag(big(11211), { src: src(1) }).length, 3, 'three fragments, as the kernel cuts 4,008 bytes for MTU 1500');
      t.deepEqual(verdicts(frag(big(11211), { src: src(1) })), ['drop', 'pass', 'pass'], `${net}: the port rule drops the first fragment`);
      t.deepEqual(verdicts(frag(big(11212), { src: src(1) })), ['pass', 'pass', 'pass'], `${net}: another port`);
      t.deepEqual(verdicts(frag(big(11211), { src: src(2) })), ['drop', 'drop', 'drop'], `${net}: a protocol rule drops every fragment`);
      t.deepEqual(verdicts(frag(tcp({ payload: 4000 }), { src: src(2) })), ['pass', 'pass', 'pass'], `${net}: not another protocol's`);
      t.deepEqual(verdicts(frag(big(11211), { src: src(3) })), ['drop', 'drop', 'drop'], `${net}: a source rule drops every fragment`);
    }
  });

  test('IPv6 prefix boundaries and /128', (t) => {
    const bw = Breakwater.loadForTest();
    t.teardown(() => bw.close());
    bw.addRule({ source: '2001:db8:1::/48' });
    bw.addRule({ source: '2001:db8:2::5/128' });
    t.is(verdict(bw, '2001:db8:1::'), XDP_DROP);
    t.is(verdict(bw, '2001:db8:1:ffff:ffff:ffff:ffff:ffff'), XDP_DROP);
    t.is(verdict(bw, '2001:db8:0:ffff:ffff:ffff:ffff:ffff'), XDP_PASS);
    t.is(verdict(bw, '2001:db8:2::'), XDP_PASS);
    t.is(verdict(bw, '2001:db8:2::5'), XDP_DROP);
    t.is(verdict(bw, '2001:db8:2::4'), XDP_PASS);
    t.is(verdict(bw, '198.18.0.2'), XDP_PASS, 'IPv6 rules never touch IPv4');
  });

  test('protocol and port rules, with a broader any-protocol rule still applying', (t) => {
    const bw = Breakwater.loadForTest();
    t.teardown(() => bw.close());
    bw.addRule({ source: '198.18.8.0/24', protocol: 'udp', port: 53 });
    bw.addRule({ source: '198.18.9.0/24', protocol: 'icmp' });
    bw.addRule({ source: '198.18.0.0/16', mode: 'log' });
    bw.addRule({ source: '198.18.8.8/32', protocol: 'tcp' });
    const src = { src: '198.18.8.1' };
    t.is(bw.testRun(eth(ipv4(udp({ dport: 53 }), src))).retval, XDP_DROP);
    t.is(bw.testRun(eth(ipv4(udp({ dport: 54 }), src))).retval, XDP_PASS, 'other port');
    t.is(bw.testRun(eth(ipv4(tcp({ dport: 53 }), src))).retval, XDP_PASS, 'other protocol');
    t.is(bw.testRun(eth(ipv4(icmp(), { src: '198.18.9.9' }))).retval, XDP_DROP);
    t.is(bw.testRun(eth(ipv4(udp(), { src: '198.18.9.9' }))).retval, XDP_PASS);
    // The /32 tcp rule is the longest match for tcp, yet udp/53 from that host still drops.
    t.is(bw.testRun(eth(ipv4(tcp(), { src: '198.18.8.8' }))).retval, XDP_DROP);
    t.is(bw.testRun(eth(ipv4(udp({ dport: 53 }), { src: '198.18.8.8' }))).retval, XDP_DROP);
    const hits = Object.fromEntries(bw.listRules().map((r) => [`${r.address}/${r.prefixLen}:${r.protocol}:${r.port}`, r.packets]));
    t.deepEqual(hits, { '198.18.8.0/24:udp:53': 2, '198.18.9.0/24:icmp:0': 1, '198.18.0.0/16:null:0': 3, '198.18.8.8/32:tcp:0': 1 });
  });

  test('the allowlist beats drop rules; hit counters count packets and bytes', (t) => {
    const bw = Breakwater.loadForTest();
    t.teardown(() => bw.close());
    bw.addRule({ source: '198.18.0.0/15' });
    bw.allow('198.18.1.0/24');
    const saved = run(bw, from('198.18.1.7'));
    t.is(saved.retval, XDP_PASS);
    t.is(saved.counters.allowlisted, 1);
    const dropped = run(bw, from('198.18.2.7'));
    t.is(dropped.retval, XDP_DROP);
    t.is(dropped.counters.dropped, 1);
    const [rule] = bw.listRules();
    t.like(rule, { packets: 1, bytes: from('198.18.2.7').length, mode: 'drop' });
    t.deepEqual(bw.listAllow(), [{ family: 4, address: '198.18.1.0', prefixLen: 24 }]);
    t.true(bw.disallow('198.18.1.0/24'));
    t.is(verdict(bw, '198.18.1.7'), XDP_DROP);
  });

  test('expiry is enforced in the kernel', async (t) => {
    const bw = Breakwater.loadForTest();
    t.teardown(() => bw.close());
    bw.addRule({ source: '198.18.6.6', expiresAt: Date.now() + 300 });
    t.is(verdict(bw, '198.18.6.6'), XDP_DROP);
    await new Promise((r) => setTimeout(r, 400));
    const d = run(bw, from('198.18.6.6'));
    t.is(d.retval, XDP_PASS, 'an expired rule stops dropping without user space');
    t.is(d.counters.ruleExpired, 1);
    t.true(bw.listRules()[0]?.expired);
    t.is(bw.pruneExpiredRules().length, 1);
    t.deepEqual(bw.listRules(), []);
    t.is(bw.config().ruleClasses, 0, 'no rule shape left: the lookup is skipped');
  });

  test('log-only rules count and pass; the kill switch stops all dropping', (t) => {
    const bw = Breakwater.loadForTest();
    t.teardown(() => bw.close());
    bw.addRule({ source: '198.18.3.0/24', mode: 'log' });
    bw.addRule({ source: '198.18.4.0/24' });
    const logged = run(bw, from('198.18.3.3'));
    t.is(logged.retval, XDP_PASS);
    t.is(logged.counters.logged, 1);
    bw.setKillSwitch(true);
    const killed = run(bw, from('198.18.4.4'));
    t.is(killed.retval, XDP_PASS);
    t.deepEqual([killed.counters.logged, killed.counters.dropped, killed.counters.udp], [1, undefined, 1], 'counting goes on');
    bw.setKillSwitch(false);
    t.is(verdict(bw, '198.18.4.4'), XDP_DROP);
    t.deepEqual(
      bw.listRules().map((r) => r.packets),
      [1, 2],
    );
  });

  test('re-adding a rule updates it in place; delete removes it', (t) => {
    const bw = Breakwater.loadForTest();
    t.teardown(() => bw.close());
    bw.addRule({ source: '198.18.5.0/24', mode: 'log' });
    bw.addRule({ source: '198.18.5.0/24', mode: 'drop', ttlSeconds: 60 });
    const rules = bw.listRules();
    t.is(rules.length, 1);
    t.is(rules[0]?.mode, 'drop');
    t.true(Math.abs((rules[0]?.expiresAt ?? 0) - (Date.now() + 60_000)) < 1000);
    t.true(bw.deleteRule({ source: '198.18.5.0/24' }));
    t.false(bw.deleteRule({ source: '198.18.5.0/24' }));
    t.is(verdict(bw, '198.18.5.5'), XDP_PASS);
  });

  test('bad rules are refused with a clear error', (t) => {
    const bw = Breakwater.loadForTest();
    t.teardown(() => bw.close());
    t.throws(() => bw.addRule({ source: '198.18.5.1/24' }), { code: 'EINVAL', message: /host bits/ });
    t.throws(() => bw.addRule({ source: 'not-an-ip' }), { code: 'EINVAL', message: /not a.* IPv4 or IPv6/ });
    t.throws(() => bw.addRule({ source: '198.18.0.0/33' }), { code: 'EINVAL' });
    t.throws(() => bw.addRule({ source: '198.18.0.1', port: 80 }), { code: 'EINVAL', message: /needs protocol/ });
    t.throws(() => bw.addRule({ source: '198.18.0.1', protocol: 'tcp', port: 70000 }), { code: 'EINVAL' });
    t.deepEqual(bw.listRules(), []);
  });

  test('a full rule map is refused and leaves every rule in place', (t) => {
    const bw = Breakwater.loadForTest();
    t.teardown(() => bw.close());
    const max = limits.maxRules;
    // 198.18.0.0/15 holds 2 x 65,536 hosts: the rules take the first /16, the probe is in the second.
    const host = (i: number) => `198.${18 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}`;
    for (let i = 0; i < max; i++) bw.addRule({ source: host(i) });
    const err = t.throws(() => bw.addRule({ source: '198.19.9.9' }), { code: 'ENOSPC' });
    t.regex(err?.message ?? '', new RegExp(`drop-rule map is full \\(${max} rules\\)`));
    t.is((err as unknown as { operation: string }).operation, 'addRule');
    t.is(bw.listRules().length, max);
    t.is(verdict(bw, host(0)), XDP_DROP);
    t.is(verdict(bw, host(max - 1)), XDP_DROP);
    t.is(verdict(bw, '198.19.9.9'), XDP_PASS);
  });
}
