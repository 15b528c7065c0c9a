// IPv4 prefixes shorter than a /16 are listed in every /16 block they span
// (a /8 in 256, a /0 in all 65,536), so that a packet reads its lengths in
// one array lookup; longer ones also mark the /24s of their block they touch,
// and a packet from an unmarked /24 probes only the lengths that span the
// block. The blocks must stay exact as rules come and go: a length is listed
// in a block, and a /24 marked, while a rule covers it, never outside, never
// left behind; a refused rule changes none of them.
import test from 'ava';
import type { RawProgram } from '../../native/binding.ts';
import { Breakwater, limits, XDP_DROP, XDP_PASS } from '../../native/index.ts';
import { eth, ipv4, tcp, udp } from '../helpers/packets.ts';
import { isRoot, requireOrSkip } from '../helpers/privileged.ts';
import { programLab } from '../helpers/veth.ts';
import { canLoadXdp, run } from '../helpers/xdp.ts';

const udp4 = (src: string, dport = 53) => eth(ipv4(udp({ dport }), { src }));
const tcp4 = (src: string, dport = 80) => eth(ipv4(tcp({ dport }), { src }));

if (requireOrSkip(test, isRoot, canLoadXdp)) {
  test('a /8 and a /12 are listed in the blocks they span, and only there, until removed', (t) => {
    const bw = Breakwater.loadForTest();
    t.teardown(() => bw.close());
    bw.addRule({ source: '10.0.0.0/8' }); // drop: blocks 10.0-10.255
    bw.addRule({ source: '10.16.0.0/12', mode: 'log' }); // log-only, longer: blocks 10.16-10.31
    bw.addRule({ source: '10.16.5.0/24', protocol: 'udp' });
    const any = (src: string) => bw.prefixLengths(src).any;
    const v = (frame: Buffer) => bw.testRun(frame).retval;

    t.deepEqual(any('9.255.255.255'), [], 'the block before the /8');
    t.deepEqual(any('10.0.0.0'), [8], 'the /8 first block');
    t.deepEqual(any('10.15.255.255'), [8], 'the block before the /12');
    t.deepEqual(any('10.16.0.0'), [12, 8], 'the /12 first block');
    t.deepEqual(any('10.31.255.255'), [12, 8], 'the /12 last block');
    t.deepEqual(any('10.32.0.0'), [8], 'the block after the /12');
    t.deepEqual(any('10.255.255.255'), [8], 'the /8 last block');
    t.deepEqual(any('11.0.0.0'), [], 'the block after the /8');
    t.deepEqual(bw.prefixLengths('10.16.5.1'), { any: [12, 8], protocol: [24], port: [] });

    t.is(v(udp4('10.0.0.1')), XDP_DROP);
    t.like(run(bw, udp4('10.20.0.1')), { retval: XDP_PASS, counters: { logged: 1 } }, 'the /12 log-only rule is longer than the /8');
    t.is(v(udp4('10.16.5.9')), XDP_DROP, 'the UDP /24 drops: another shape than the /12');
    t.like(run(bw, tcp4('10.16.5.9')), { retval: XDP_PASS, counters: { logged: 1 } });
    t.is(v(udp4('10.32.0.0')), XDP_DROP);
    t.is(v(udp4('9.255.255.255')), XDP_PASS);
    t.is(v(udp4('11.0.0.0')), XDP_PASS);

    t.true(bw.deleteRule({ source: '10.16.0.0/12' }));
    t.deepEqual(any('10.16.0.0'), [8], 'the /12 is gone from its first block');
    t.deepEqual(any('10.31.255.255'), [8], 'and from its last');
    t.is(v(udp4('10.20.0.1')), XDP_DROP, 'the /8 decides there now');
    t.deepEqual(bw.prefixLengths('10.16.5.1').protocol, [24], 'the /24 of another class stays');

    bw.addRule({ source: '10.16.0.0/12', mode: 'log' });
    t.true(bw.deleteRule({ source: '10.0.0.0/8' }));
    t.deepEqual(any('10.0.0.0'), []);
    t.deepEqual(any('10.20.0.0'), [12], 'the /12 keeps its own bit in the blocks the /8 shared');
    t.deepEqual(any('10.255.255.255'), []);
    t.is(v(udp4('10.0.0.1')), XDP_PASS);
    t.like(run(bw, udp4('10.20.0.1')), { retval: XDP_PASS, counters: { logged: 1 } });
    t.is(v(udp4('10.16.5.9')), XDP_DROP);
    t.true(bw.deleteRule({ source: '10.16.0.0/12' }));
    t.true(bw.deleteRule({ source: '10.16.5.0/24', protocol: 'udp' }));
    t.deepEqual(bw.prefixLengths('10.16.5.1'), { any: [], protocol: [], port: [] }, 'nothing left');
  });

  test('rules of one class and length over the same blocks share the bit; a /0 spans every block', (t) => {
    const bw = Breakwater.loadForTest();
    t.teardown(() => bw.close());
    const proto = (src: string) => bw.prefixLengths(src).protocol;
    bw.addRule({ source: '172.16.0.0/12', protocol: 'udp' });
    bw.addRule({ source: '172.16.0.0/12', protocol: 'tcp', mode: 'log' });
    bw.addRule({ source: '172.16.0.0/12', protocol: 'tcp', port: 22 }); // another class: port
    t.deepEqual(proto('172.31.0.1'), [12]);
    t.deepEqual(bw.prefixLengths('172.31.0.1').port, [12]);
    t.true(bw.deleteRule({ source: '172.16.0.0/12', protocol: 'udp' }));
    t.deepEqual(proto('172.31.0.1'), [12], 'the TCP /12 still covers the blocks');
    t.is(bw.testRun(udp4('172.20.0.1')).retval, XDP_PASS);
    // The port rule (looked up first) drops; the log-only protocol rule found after it cannot undo that.
    t.is(bw.testRun(tcp4('172.20.0.1', 22)).retval, XDP_DROP);
    t.like(run(bw, tcp4('172.20.0.1', 80)), { retval: XDP_PASS, counters: { logged: 1 } });
    t.true(bw.deleteRule({ source: '172.16.0.0/12', protocol: 'tcp' }));
    t.deepEqual(proto('172.16.0.1'), []);
    t.deepEqual(bw.prefixLengths('172.16.0.1').port, [12]);

    // A log-only rule found first (port shape) still lets a later drop win (any shape).
    bw.addRule({ source: '0.0.0.0/0' });
    bw.addRule({ source: '198.51.100.0/24', protocol: 'udp', port: 53, mode: 'log' });
    for (const src of ['0.0.0.0', '127.0.0.1', '198.51.100.7', '255.255.255.255'])
      t.deepEqual(bw.prefixLengths(src).any, [0], `${src}: the /0 is in its block`);
    t.is(bw.testRun(udp4('198.51.100.7', 53)).retval, XDP_DROP, 'the /0 drop wins over the longer log-only port rule');
    t.is(bw.testRun(udp4('255.255.255.255')).retval, XDP_DROP);
    const hits = Object.fromEntries(bw.listRules().map((r) => [`${r.address}/${r.prefixLen}:${r.port}`, r.packets]));
    t.like(hits, { '0.0.0.0/0:0': 2, '198.51.100.0/24:53': 0 }, 'the drop rule is the one counted');
    t.true(bw.deleteRule({ source: '0.0.0.0/0' }));
    for (const src of ['0.0.0.0', '198.51.100.7', '255.255.255.255']) t.deepEqual(bw.prefixLengths(src).any, [], `${src}: gone`);
    t.like(run(bw, udp4('198.51.100.7', 53)), { retval: XDP_PASS, counters: { logged: 1 } });
    t.is(bw.testRun(udp4('255.255.255.255')).retval, XDP_PASS);
  });

  test('rules past a /16 mark the /24s they touch, whatever their class, until the last is gone', (t) => {
    const bw = Breakwater.loadForTest();
    t.teardown(() => bw.close());
    const any = (src: string) => bw.prefixLengths(src).any;
    const v = (frame: Buffer) => bw.testRun(frame).retval;
    bw.addRule({ source: '198.18.16.0/20' }); // /24s 16-31
    bw.addRule({ source: '198.18.40.0/29', protocol: 'udp' }); // /24 40
    bw.addRule({ source: '198.18.40.64/26', mode: 'log' }); // /24 40 too

    t.deepEqual(any('198.18.15.255'), [], 'the /24 before the /20');
    t.deepEqual(any('198.18.16.0'), [26, 20], "the /20's first /24 probes the block's lengths");
    t.deepEqual(any('198.18.31.255'), [26, 20], 'and its last');
    t.deepEqual(any('198.18.32.0'), [], 'the /24 after it');
    t.deepEqual(bw.prefixLengths('198.18.40.200'), { any: [26, 20], protocol: [29], port: [] });
    t.is(v(udp4('198.18.20.1')), XDP_DROP);
    t.is(v(udp4('198.18.40.3')), XDP_DROP, 'the UDP /29');
    t.like(run(bw, udp4('198.18.40.70')), { retval: XDP_PASS, counters: { logged: 1 } });
    t.is(v(udp4('198.18.33.1')), XDP_PASS);

    t.true(bw.deleteRule({ source: '198.18.40.0/29', protocol: 'udp' }));
    t.deepEqual(bw.prefixLengths('198.18.40.200'), { any: [26, 20], protocol: [], port: [] }, 'the /26 keeps /24 40 marked');
    t.true(bw.deleteRule({ source: '198.18.40.64/26' }));
    t.deepEqual(any('198.18.40.200'), [], 'the last rule of /24 40 took its mark');
    t.deepEqual(any('198.18.16.0'), [20]);

    bw.addRule({ source: '198.18.128.0/17', protocol: 'tcp' }); // /24s 128-255, another class
    t.deepEqual(bw.prefixLengths('198.18.255.1'), { any: [20], protocol: [17], port: [] });
    t.deepEqual(bw.prefixLengths('198.18.127.1'), { any: [], protocol: [], port: [] });
    t.is(v(tcp4('198.18.200.1')), XDP_DROP);
    t.true(bw.deleteRule({ source: '198.18.16.0/20' }));
    t.deepEqual(any('198.18.16.0'), []);
    t.deepEqual(bw.prefixLengths('198.18.128.1').protocol, [17]);
    t.true(bw.deleteRule({ source: '198.18.128.0/17', protocol: 'tcp' }));
    for (const src of ['198.18.16.1', '198.18.128.1', '198.18.255.255'])
      t.deepEqual(bw.prefixLengths(src), { any: [], protocol: [], port: [] }, `${src}: nothing left`);
  });

  test('a full rule map refuses a /8 and a /0 and leaves every block as it was', (t) => {
    const bw = Breakwater.loadForTest();
    t.teardown(() => bw.close());
    bw.addRule({ source: '10.16.0.0/12' });
    // 198.18.0.0/16 holds the hosts.
    const host = (i: number) => `198.18.${(i >> 8) & 255}.${i & 255}`;
    for (let i = 0; i < limits.maxRules - 1; i++) bw.addRule({ source: host(i) });
    for (const source of ['10.0.0.0/8', '0.0.0.0/0'])
      t.throws(() => bw.addRule({ source }), { code: 'ENOSPC', message: /drop-rule map is full/ });
    // The rule book refuses first; the kernel's map refuses as well, after the
    // addon listed the length in every block, which it then takes back.
    const prog = (bw as unknown as { prog: RawProgram }).prog;
    for (const [address, prefixLen] of [
      [[10, 0, 0, 0], 8],
      [[0, 0, 0, 0], 0],
      [[10, 16, 7, 0], 24],
    ] as const) {
      const err = t.throws(() => prog.putRule({ family: 4, address: Buffer.from(address), prefixLen, mode: 'drop', slot: 7 }));
      t.regex(err?.message ?? '', /drop-rule map is full \(65536 rules\); existing rules are unchanged/);
    }
    t.is(bw.listRules().length, limits.maxRules);
    t.deepEqual(bw.prefixLengths('10.0.0.1').any, [], 'no /8 or /0 left in its blocks');
    t.deepEqual(bw.prefixLengths('10.16.0.1').any, [12]);
    t.deepEqual(bw.prefixLengths('10.16.7.1').any, [12], 'no /24 listed or marked');
    t.deepEqual(bw.prefixLengths('203.0.113.1').any, []);
    t.is(bw.testRun(udp4('10.0.0.1')).retval, XDP_PASS);
    t.is(bw.testRun(udp4('10.16.0.1')).retval, XDP_DROP);
    t.is(bw.testRun(udp4(host(0))).retval, XDP_DROP);
    t.is(bw.testRun(udp4('198.19.0.1')).retval, XDP_PASS);
  });

  test('an adopted program counts its pinned short prefixes into the blocks', (t) => {
    const { lab, attach } = programLab(t, `pb${process.pid % 10000}`, 38);
    const first = attach();
    first.addRule({ source: '10.0.0.0/8' });
    first.addRule({ source: '10.16.0.0/12' });
    first.addRule({ source: '10.32.0.0/12', protocol: 'udp' });
    first.close();
    const again = Breakwater.attach(lab.victimIf, { netns: lab.victimNs });
    t.like(again.info, { adopted: true });
    t.true(again.deleteRule({ source: '10.16.0.0/12' }));
    t.deepEqual(again.prefixLengths('10.20.0.1').any, [8], 'the /12 left its 16 blocks, counted from the pinned rules');
    t.true(again.deleteRule({ source: '10.0.0.0/8' }));
    t.deepEqual(again.prefixLengths('10.200.0.1').any, []);
    t.deepEqual(again.prefixLengths('10.40.0.1').protocol, [12]);
    again.close();
  });
}
