// Packet samples reach JavaScript through the ring buffer's fd in libuv's loop,
// at the rate asked, never over the per-second budget.
import test from 'ava';
import { Breakwater, limits, type Sample } from '../../native/index.ts';
import { eth, ipv4, udp } from '../helpers/packets.ts';
import { isRoot, requireOrSkip } from '../helpers/privileged.ts';
import { canLoadXdp } from '../helpers/xdp.ts';

function collect(bw: Breakwater, wantAtLeast: number, ms = 1000): Promise<Sample[]> {
  const got: Sample[] = [];
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      bw.stopSamples();
      resolve(got);
    };
    const timer = setTimeout(done, ms);
    bw.onSamples((batch) => {
      got.push(...batch);
      if (got.length >= wantAtLeast) setImmediate(done);
    });
  });
}

if (requireOrSkip(test, isRoot, canLoadXdp)) {
  test.serial('sampling is off by default', async (t) => {
    const bw = Breakwater.loadForTest();
    t.teardown(() => bw.close());
    const pending = collect(bw, 1, 300);
    bw.testRun(eth(ipv4(udp())), 100);
    t.deepEqual(await pending, []);
    t.is(bw.snapshot(0).counters.sampled, 0);
  });

  test.serial('every packet at period 1: head, length and verdict', async (t) => {
    const bw = Breakwater.loadForTest();
    t.teardown(() => bw.close());
    bw.setSampling(1);
    bw.addRule({ source: '198.18.9.0/24' });
    const big = eth(ipv4(udp({ payload: 400 })));
    const pending = collect(bw, 2);
    bw.testRun(big);
    bw.testRun(eth(ipv4(udp(), { src: '198.18.9.1' })));
    const samples = await pending;
    t.is(samples.length, 2);
    t.is(samples[0]?.length, big.length);
    t.is(samples[0]?.verdict, 'pass');
    t.deepEqual(samples[0]?.data, big.subarray(0, limits.sampleBytes));
    t.is(samples[1]?.verdict, 'drop');
    t.is(typeof samples[0]?.timestampNs, 'bigint');
  });

  test.serial('a flood is bounded by the per-second budget', async (t) => {
    const bw = Breakwater.loadForTest();
    t.teardown(() => bw.close());
    bw.setSampling(1, 50);
    const pending = collect(bw, 10_000, 500);
    bw.testRun(eth(ipv4(udp())), 5000);
    const samples = await pending;
    const c = bw.snapshot(0).counters;
    // testRun runs on one CPU; one second window at most.
    t.true(samples.length <= 50 * 2, `${samples.length} samples`);
    t.true(samples.length >= 50);
    t.is(c.sampled + c.samplesLost, 5000);
  });
}
