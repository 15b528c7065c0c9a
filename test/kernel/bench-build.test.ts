// The benchmark builds (bench:xdp) load: they add a random source per packet
// on top of the program, which doubles the verifier's paths through all that
// follows, so a change that makes the program dearer to verify shows here
// first (one did: 841,003 instructions, over the limit in the bench build).
// The spoofed build draws a new source for each packet; the single-source
// build draws and keeps the packet's.
import test from 'ava';
import { Breakwater } from '../../native/index.ts';
import { eth, ipv4, udp } from '../helpers/packets.ts';
import { isRoot, requireOrSkip } from '../helpers/privileged.ts';
import { canLoadXdp } from '../helpers/xdp.ts';

const frame = eth(ipv4(udp({ dport: 9 }), { src: '198.18.0.1' }));

if (requireOrSkip(test, isRoot, canLoadXdp)) {
  test('the spoofed-flood build gives every packet its own source; the single-source build keeps it', (t) => {
    const spoofed = Breakwater.loadForTest({ benchSourceMask: 0xffffffff });
    const single = Breakwater.loadForTest({ benchSourceMask: 0 });
    t.teardown(() => {
      spoofed.close();
      single.close();
    });
    spoofed.testRun(frame, 5_000);
    single.testRun(frame, 5_000);
    const many = spoofed.snapshot(0).distinctSources.current;
    t.true(many > 4_500 && many < 5_500, `spoofed: ${many} sources of 5,000 packets`);
    t.is(single.snapshot(0).distinctSources.current, 1);
  });
}
