// The capture consumer over a stream of samples: part 1 starts with the
// pre-attack ring (the seconds before the onset, the onset marked), goes to
// the inbox FIRST_PART_MS after the opening, part 2 runs to the resolve, no
// packet twice; the incident's byte bound stops the recording and says so;
// the part bound splits it; nothing is written without a budget or packets.
// Every file is read back by tshark.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import test from 'ava';
import { CaptureConsumer, type CaptureOptions } from '../../../agent/capture/consumer.ts';
import { readyCaptures } from '../../../agent/capture/inbox.ts';
import type { DetectorEvent } from '../../../agent/detect/index.ts';
import { silentLogger } from '../../../agent/log.ts';
import type { PacketSample } from '../../../agent/packets/types.ts';
import { eth, ipv4, tcp, udp } from '../../helpers/packets.ts';
import { statistics, tsharkPackets } from '../../helpers/pcapng.ts';
import { commands, requireOrSkip } from '../../helpers/privileged.ts';

const calmFrame = eth(ipv4(tcp({ sport: 40000, dport: 80, flags: 0x10 }), { src: '198.18.61.3', dst: '198.18.61.1' }));
const floodFrame = eth(ipv4(udp({ dport: 27015, payload: 32 }), { src: '198.19.7.7', dst: '198.18.61.1' }));
/**
 * The offset from performance.now() (ms) to another clock, read between two
 * performance.now() calls: the pair of the 20 with the least time between
 * them, so that a test process preempted between two reads (a loaded CI
 * machine) does not skew the reference by milliseconds.
 */
function offsetFromPerf(read: () => number): number {
  let best = Number.POSITIVE_INFINITY,
    offset = 0;
  for (let i = 0; i < 20; i++) {
    const a = performance.now();
    const v = read();
    const b = performance.now();
    if (b - a < best) [best, offset] = [b - a, v - (a + b) / 2];
  }
  return offset;
}
// performance.now() (the detector's clock) to CLOCK_MONOTONIC, as the tap dates samples.
const perfToMono = BigInt(Math.round(offsetFromPerf(() => Number(process.hrtime.bigint()) / 1e6) * 1e6));

const at = (atMs: number, frame: Buffer, verdict: PacketSample['verdict'] = 'pass'): PacketSample => ({
  monoNs: BigInt(Math.round(atMs * 1e6)) + perfToMono,
  wallMs: 0,
  atMs,
  length: frame.length,
  verdict,
  data: frame,
  head: null,
});
const run = (n: number, from: number, stepMs: number, frame: Buffer) => Array.from({ length: n }, (_, i) => at(from + i * stepMs, frame));

const event = (type: DetectorEvent['type'], startedAtMs: number) =>
  ({
    type,
    atMs: performance.now(),
    incident: { attack_family: 'udp_flood' },
    extension: { started_at_ms: startedAtMs },
  }) as unknown as DetectorEvent;

function consumer(t: { teardown(f: () => void): void }, o: Partial<CaptureOptions> = {}) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bw-capture-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  let n = 0;
  const counters = () => {
    n += 100;
    return { packets: n * 10, dropped: n, samplesLost: n / 100 };
  };
  const c = new CaptureConsumer({
    dir,
    iface: 'bwv0',
    snapLen: 128,
    maxBytes: 16 << 20,
    log: silentLogger,
    counters,
    firstPartMs: 100,
    ...o,
  });
  return { c, dir, files: () => readyCaptures(dir) };
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

if (requireOrSkip(test, commands('tshark'))) {
  test('part 1: the ring then the flood, the onset marked; part 2 to the resolve; no packet twice', async (t) => {
    const { c, files } = consumer(t);
    const now = performance.now();
    c.onSamples(run(3000, now - 16_000, 5, calmFrame)); // 15 s of calm, more than the ring holds
    c.onSamples(run(100, now - 500, 5, floodFrame)); // the flood's first half second
    c.onIncident(event('opened', now - 500), 'k0-1');
    c.onSamples(run(200, now, 1, floodFrame));
    t.is(files().length, 0, 'part 1 is still being written');
    await sleep(200);
    const [p1] = files();
    t.like(p1, { key: 'k0-1', part: 1 });
    const first = tsharkPackets(p1!.file);
    t.is(first.length, 2000 + 200, 'the whole ring, then what came after the opening');
    t.is(first.filter((p) => p.src === '198.18.61.3').length, 1900, 'the calm seconds before the onset');
    t.is(first[1900]!.comment, "incident onset (the detector's)");
    t.is(first[1900]!.src, '198.19.7.7');
    t.is(first.filter((p) => p.comment).length, 1, 'one onset mark');
    t.true(
      first.every((p, i) => i === 0 || p.ms >= first[i - 1]!.ms),
      'in time order',
    );
    // Date.now() counts whole ms: the reference is good to about 1 ms.
    const onsetWall = now - 500 + offsetFromPerf(Date.now);
    const off = first[1900]!.ms - onsetWall;
    t.true(Math.abs(off) < 5, `the onset packet on the wall clock (${off.toFixed(2)} ms off)`);

    c.onSamples(run(50, now + 300, 1, floodFrame));
    c.onIncident(event('resolved', now - 500), 'k0-1');
    const [, p2] = files();
    t.like(p2, { key: 'k0-1', part: 2 });
    t.is(tsharkPackets(p2!.file).length, 50, 'only what came after part 1');
    c.onSamples(run(10, now + 400, 1, floodFrame));
    t.is(files().length, 2, 'nothing after the resolve');
    const [isb] = statistics(p2!.file);
    t.is(isb!.get(8), 50n);
    t.is(isb!.get(4), 1000n, 'the counters read when the part opened and closed');
  });

  test("the incident's bytes bound the recording, and its last part says where it stopped", async (t) => {
    const { c, files } = consumer(t, { maxBytes: 20_000 });
    const now = performance.now();
    c.onSamples(run(50, now - 1000, 10, calmFrame));
    c.onIncident(event('opened', now - 100), 'k0-2');
    c.onSamples(run(500, now, 1, floodFrame));
    const [p] = files();
    t.truthy(p, 'written when the bound is reached, not at the resolve');
    const size = fs.statSync(p!.file).size;
    t.true(size <= 20_000 && size > 20_000 - 1024 - 2 * 136, `${size} bytes: filled up to the bound (blocks of 116 and 136 bytes)`);
    const pk = tsharkPackets(p!.file);
    t.is(pk.filter((x) => x.src === '198.18.61.3').length, 50, 'the whole ring');
    t.true(pk.length > 130 && pk.length < 160, `then the flood up to the bound: ${pk.length} packets`);
    t.regex(String(statistics(p!.file)[0]!.get(1)), /the capture stops here: the incident's 20000 bytes are used/);
    await sleep(150);
    c.onIncident(event('resolved', now - 100), 'k0-2');
    t.is(files().length, 1);
  });

  test('the part bound splits a long capture into parts, each whole, none overlapping', (t) => {
    const { c, files } = consumer(t, { partMaxBytes: 30_000, firstPartMs: 60_000 });
    const now = performance.now();
    c.onIncident(event('opened', now), 'k0-3');
    c.onSamples(run(1000, now, 1, floodFrame));
    c.onIncident(event('resolved', now), 'k0-3');
    const parts = files();
    t.true(parts.length >= 4, `${parts.length} parts (1,000 blocks of 136 bytes)`);
    let total = 0,
      last = 0;
    for (const p of parts) {
      t.true(fs.statSync(p.file).size <= 30_000);
      const pk = tsharkPackets(p.file);
      t.true(pk[0]!.ms >= last, 'each part starts after the previous one');
      last = pk.at(-1)!.ms;
      total += pk.length;
    }
    t.is(total, 1000);
  });
}

test('no budget: nothing recorded; a part without packets is not written', async (t) => {
  const off = consumer(t, { maxBytes: 0 });
  off.c.onSamples(run(10, performance.now(), 1, floodFrame));
  off.c.onIncident(event('opened', performance.now()), 'k0-4');
  off.c.onSamples(run(10, performance.now(), 1, floodFrame));
  off.c.onIncident(event('resolved', performance.now()), 'k0-4');
  t.deepEqual(off.files(), []);
  t.deepEqual(fs.readdirSync(off.dir), []);

  const on = consumer(t);
  on.c.onIncident(event('opened', performance.now()), 'k0-5');
  await sleep(150);
  on.c.onIncident(event('resolved', performance.now()), 'k0-5');
  t.deepEqual(on.files(), [], 'no samples at all: no file, no temporary left');
  t.deepEqual(fs.readdirSync(on.dir), []);
});
