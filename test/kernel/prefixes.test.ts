// Prefix rules of many lengths: probed by length, longest first, from the
// kernel's index of lengths in use. Per rule shape (any / protocol / port)
// the longest matching prefix decides, as the LPM trie did; across shapes a
// drop wins over a log-only rule; the index follows every add, delete and
// prune, here and in an adopted program.
import test from 'ava';
import { Breakwater, XDP_DROP, XDP_PASS } from '../../native/index.ts';
import { eth, ipv4, ipv6, tcp, udp } from '../helpers/packets.ts';
import { isRoot, requireOrSkip } from '../helpers/privileged.ts';
import { programLab } from '../helpers/veth.ts';
import { canLoadXdp, run } from '../helpers/xdp.ts';

const udp4 = (src: string, dport = 53) => eth(ipv4(udp({ dport }), { src }));
const tcp4 = (src: string, dport = 80) => eth(ipv4(tcp({ dport }), { src }));
const udp6 = (src: string, dport = 53) => eth(ipv6(udp({ dport }), { src }));
const tcp6 = (src: string, dport = 80) => eth(ipv6(tcp({ dport }), { src }));
const hits = (bw: Breakwater) =>
  Object.fromEntries(bw.listRules().map((r) => [`${r.address}/${r.prefixLen}:${r.protocol ?? 'any'}:${r.port}`, r.packets]));

if (requireOrSkip(test, isRoot, canLoadXdp)) {
  test('IPv4: the longest prefix of each shape decides; shapes, modes, hosts and counters combine as before', (t) => {
    const bw = Breakwater.loadForTest();
    t.teardown(() => bw.close());
    bw.addRule({ source: '10.0.0.0/8' }); // drop, any protocol
    bw.addRule({ source: '10.1.0.0/16', mode: 'log' }); // more specific, log-only
    bw.addRule({ source: '10.1.2.0/24', protocol: 'udp' }); // more specific still, UDP only
    bw.addRule({ source: '10.1.2.0/25', mode: 'log' }); // any protocol, longer than the /24
    bw.addRule({ source: '10.1.0.0/16', protocol: 'tcp', port: 22 });
    bw.addRule({ source: '10.1.2.5/32', protocol: 'tcp', port: 80 });
    bw.addRule({ source: '10.1.128.0/17', protocol: 'tcp', mode: 'log' });
    const v = (frame: Buffer) => run(bw, frame);

    t.like(v(udp4('10.9.9.9')), { retval: XDP_DROP, counters: { dropped: 1 } }, 'only the /8 matches');
    t.like(v(tcp4('10.1.9.9')), { retval: XDP_PASS, counters: { logged: 1 } }, 'the /16 log-only rule is longer than the /8 drop');
    t.like(v(udp4('10.1.2.200')), { retval: XDP_DROP, counters: { dropped: 1 } }, 'the UDP /24 drops: another shape than the /16');
    t.like(v(tcp4('10.1.2.200')), { retval: XDP_PASS, counters: { logged: 1 } }, 'TCP meets no protocol rule there: the /16 logs');
    t.like(v(udp4('10.1.2.5')), { retval: XDP_DROP }, 'the any-protocol /25 logs, the UDP /24 drops: the drop wins');
    t.like(v(tcp4('10.1.2.5', 443)), { retval: XDP_PASS, counters: { logged: 1 } }, 'the /25 is the longest any-protocol prefix');
    t.like(v(tcp4('10.1.2.5', 80)), { retval: XDP_DROP }, 'the host port rule');
    t.like(v(tcp4('10.1.2.6', 22)), { retval: XDP_DROP }, 'the /16 port rule, under longer rules of other shapes');
    t.like(v(tcp4('10.1.200.1', 22)), { retval: XDP_DROP }, 'a port rule drops past a log-only protocol rule of a longer prefix');
    t.like(v(udp4('11.0.0.1')), { retval: XDP_PASS, counters: { passed: 1 } });
    t.deepEqual(hits(bw), {
      '10.0.0.0/8:any:0': 1,
      '10.1.0.0/16:any:0': 2,
      '10.1.2.0/24:udp:0': 2,
      '10.1.2.0/25:any:0': 1,
      '10.1.0.0/16:tcp:22': 2,
      '10.1.2.5/32:tcp:80': 1,
      '10.1.128.0/17:tcp:0': 0,
    });
    t.deepEqual(bw.prefixLengths('10.1.2.5'), { any: [25, 16, 8], protocol: [24, 17], port: [16] }, 'the lengths of its /16, and the /8');
    t.deepEqual(bw.prefixLengths('10.9.9.9'), { any: [8], protocol: [], port: [] }, 'another /16 of the /8: only the /8');
    t.deepEqual(bw.prefixLengths('192.0.2.1'), { any: [], protocol: [], port: [] }, 'outside the /8: nothing to probe');

    // The kill switch turns every drop into a count.
    bw.setKillSwitch(true);
    t.like(v(udp4('10.1.2.200')), { retval: XDP_PASS, counters: { logged: 1 } });
    bw.setKillSwitch(false);
    // The allowlist still wins over a prefix rule.
    bw.allow('10.1.2.192/26');
    t.like(v(udp4('10.1.2.200')), { retval: XDP_PASS, counters: { allowlisted: 1 } });
    t.like(v(udp4('10.1.2.100')), { retval: XDP_DROP });
  });

  test('IPv6: lengths across every word of the address, longest first', (t) => {
    const bw = Breakwater.loadForTest();
    t.teardown(() => bw.close());
    bw.addRule({ source: '2001:db8::/29' }); // shorter than a block: spans /32s
    bw.addRule({ source: '2001:db8:1::/48', mode: 'log' });
    bw.addRule({ source: '2001:db8:1:2::/63', protocol: 'udp' });
    bw.addRule({ source: '2001:db8:1:2::/65', mode: 'log' });
    bw.addRule({ source: '2001:db8:1:2::/96', protocol: 'udp', mode: 'log' });
    bw.addRule({ source: '2001:db8:1:2::6/127', protocol: 'tcp', port: 80 });
    bw.addRule({ source: '2001:db8:1:2::9/128' });
    const v = (frame: Buffer) => bw.testRun(frame).retval;
    t.is(v(udp6('2001:dbf::1')), XDP_DROP, 'the /29, in another /32');
    t.is(v(tcp6('2001:db8:1:ffff::1')), XDP_PASS, 'the /48 log-only rule is longer than the /29');
    t.is(v(udp6('2001:db8:1:3::1')), XDP_DROP, 'the UDP /63 (2001:db8:1:2::-2001:db8:1:3:ffff:...)');
    t.is(v(udp6('2001:db8:1:2::1')), XDP_PASS, 'the UDP /96 log-only rule is longer than the UDP /63');
    t.is(v(udp6('2001:db8:1:2:1::1')), XDP_DROP, 'outside the /96, the /63 decides');
    t.is(v(tcp6('2001:db8:1:2::7')), XDP_DROP, 'the /127 port rule');
    t.is(v(tcp6('2001:db8:1:2::8', 80)), XDP_PASS, 'next to the /127: the /65 logs');
    t.is(v(tcp6('2001:db8:1:2::9', 443)), XDP_DROP, 'the /128 host rule, under longer log-only prefixes');
    t.deepEqual(bw.prefixLengths('2001:db8:1:2::7'), { any: [65, 48, 29], protocol: [96, 63], port: [127] });
    t.deepEqual(bw.prefixLengths('2001:db9::1'), { any: [29], protocol: [], port: [] });
    t.true(bw.deleteRule({ source: '2001:db8:1:2::/96', protocol: 'udp' }));
    t.is(v(udp6('2001:db8:1:2::1')), XDP_DROP, 'without the /96 the /63 decides');
    t.deepEqual(bw.prefixLengths('2001:db8:1:2::7').protocol, [63]);
    for (const r of bw.listRules())
      bw.deleteRule({ source: `${r.address}/${r.prefixLen}`, protocol: r.protocol ?? undefined, port: r.port });
    t.deepEqual(bw.prefixLengths('2001:db8:1:2::7'), { any: [], protocol: [], port: [] }, 'no length left');
    t.is(v(udp6('2001:db8:1:3::1')), XDP_PASS);
  });

  test('deleting or pruning the last rule of a length removes the length from the lengths in use', async (t) => {
    const bw = Breakwater.loadForTest();
    t.teardown(() => bw.close());
    bw.addRule({ source: '10.0.0.0/8' });
    bw.addRule({ source: '11.0.0.0/8' });
    bw.addRule({ source: '10.1.5.0/24' });
    bw.addRule({ source: '10.1.6.0/24' });
    bw.addRule({ source: '10.1.7.0/24', protocol: 'udp' });
    bw.addRule({ source: '10.2.0.0/24' }); // another /16
    bw.addRule({ source: '10.1.9.0/28', expiresAt: Date.now() + 300 });
    bw.addRule({ source: '10.1.5.0/24', mode: 'log' }); // updated in place: still one rule
    const any = (src: string) => bw.prefixLengths(src).any;
    // Lengths past a /16 are probed in the /24s their rules touch (the /28 marks 10.1.9.0/24).
    t.deepEqual(any('10.1.9.1'), [28, 24, 8]);
    t.deepEqual(bw.prefixLengths('10.1.9.1').protocol, [24]);
    t.deepEqual(bw.prefixLengths('10.1.0.1'), { any: [8], protocol: [], port: [] }, 'a /24 that no rule past a /16 touches: only the /8');
    t.true(bw.deleteRule({ source: '10.1.5.0/24' }));
    t.deepEqual(any('10.1.9.1'), [28, 24, 8], 'another /24 of the same shape is left in the block');
    t.false(bw.deleteRule({ source: '10.1.5.0/24' }), 'a second delete changes nothing');
    t.deepEqual(any('10.1.9.1'), [28, 24, 8]);
    t.true(bw.deleteRule({ source: '10.1.6.0/24' }));
    t.deepEqual(any('10.1.9.1'), [28, 8], 'the last any-protocol /24 of the block is gone');
    t.deepEqual(bw.prefixLengths('10.1.9.1').protocol, [24], 'the UDP /24 has its own set');
    t.deepEqual(any('10.2.0.1'), [24, 8], 'the /24 of another block stays');
    t.is(bw.testRun(udp4('10.1.6.1')).retval, XDP_DROP, 'the /8 still drops');
    t.true(bw.deleteRule({ source: '10.0.0.0/8' }));
    t.deepEqual(any('10.1.9.1'), [28], "the /8 is gone from its blocks; the other /8's are its own");
    t.deepEqual(any('11.255.0.1'), [8]);
    t.is(bw.testRun(udp4('10.1.6.1')).retval, XDP_PASS);
    t.is(bw.testRun(udp4('11.3.3.3')).retval, XDP_DROP);
    t.true(bw.deleteRule({ source: '11.0.0.0/8' }));
    t.deepEqual(any('10.1.9.1'), [28]);

    // An expired rule still hides the shorter ones of its shape until it is
    // pruned, as in the trie; pruning it removes its length.
    bw.addRule({ source: '10.1.0.0/16' });
    await new Promise((r) => setTimeout(r, 400));
    t.like(run(bw, udp4('10.1.9.1')), { retval: XDP_PASS, counters: { ruleExpired: 1 } });
    t.deepEqual(
      bw.pruneExpiredRules().map((r) => `${r.address}/${r.prefixLen}`),
      ['10.1.9.0/28'],
    );
    t.deepEqual(any('10.1.9.1'), [16], 'the /28 took its mark along');
    t.deepEqual(any('10.1.0.1'), [16]);
    t.is(bw.testRun(udp4('10.1.9.1')).retval, XDP_DROP, 'the /16 decides once the /28 is gone');
  });

  test('an adopted program reads the lengths in use from its rules', (t) => {
    const { lab, attach } = programLab(t, `px${process.pid % 10000}`, 37);
    const first = attach();
    first.addRule({ source: '10.1.2.0/24' });
    first.addRule({ source: '10.1.3.0/24' });
    first.addRule({ source: '2001:db8:1::/48', protocol: 'udp' });
    first.close();
    const again = Breakwater.attach(lab.victimIf, { netns: lab.victimNs });
    t.like(again.info, { adopted: true });
    t.deepEqual(again.prefixLengths('10.1.2.1').any, [24]);
    t.deepEqual(again.prefixLengths('10.1.0.1').any, [], 'a /24 without a rule is not marked');
    t.true(again.deleteRule({ source: '10.1.2.0/24' }));
    t.deepEqual(again.prefixLengths('10.1.3.1').any, [24], 'one /24 left, counted from the pinned rules');
    t.deepEqual(again.prefixLengths('10.1.2.1').any, [], 'and the mark of the one deleted is gone');
    t.true(again.deleteRule({ source: '10.1.3.0/24' }));
    t.deepEqual(again.prefixLengths('10.1.3.1').any, []);
    t.deepEqual(again.prefixLengths('2001:db8:1::1').protocol, [48]);
    t.true(again.deleteRule({ source: '2001:db8:1::/48', protocol: 'udp' }));
    t.deepEqual(again.prefixLengths('2001:db8:1::1').protocol, []);
    again.close();
  });
}
