// The incident's distinct sources: the union of its windows. 50,000 distinct
// sources sent over five windows, a third of each window's packets from
// sources of earlier windows: each window's estimate sees about 15,000, the
// registers merged over the windows estimate the 50,000 within 5%, as the
// detector reports them (source_ip_count).
import test from 'ava';
import { estimateDistinct, mergeRegisters } from '../../native/hll.ts';
import { Breakwater } from '../../native/index.ts';
import { eth, ipv4, udp } from '../helpers/packets.ts';
import { isRoot, requireOrSkip } from '../helpers/privileged.ts';
import { canLoadXdp } from '../helpers/xdp.ts';

const addr = (i: number) => `198.${18 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}`;

if (requireOrSkip(test, isRoot, canLoadXdp)) {
  test("a union of windows estimates the incident's distinct sources within 5%", (t) => {
    const bw = Breakwater.loadForTest();
    t.teardown(() => bw.close());
    const union = new Uint8Array(4096);
    const perWindow: number[] = [];
    for (let w = 0; w < 5; w++) {
      bw.rotateWindow();
      const fresh = Array.from({ length: 10_000 }, (_, i) => w * 10_000 + i);
      const again = Array.from({ length: 5_000 }, (_, i) => (w === 0 ? i : (i * 7919) % (w * 10_000)));
      for (const i of [...fresh, ...again]) bw.testRun(eth(ipv4(udp({ dport: 9 }), { src: addr(i) })));
      const snap = bw.snapshot(0);
      perWindow.push(snap.distinctSources.current);
      mergeRegisters(union, snap.hll.current);
    }
    const estimate = estimateDistinct(union);
    t.log(`windows: ${perWindow.join(', ')}; union ${estimate} of 50000`);
    t.true(Math.abs(estimate - 50_000) <= 2_500, `union estimate ${estimate}`);
    t.true(Math.max(...perWindow) < 20_000, 'no single window sees them all');
  });
}
