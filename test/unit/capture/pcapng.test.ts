// The pcapng writer, read back by tshark and capinfos (Wireshark's own
// readers) and by the server's upload check: the section and interface
// blocks (snap length, ns resolution, comment), each packet's original
// length, head, wall-clock time from the monotonic clock, direction, XDP
// verdict and Breakwater's verdict comment, and the statistics block.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import test from 'ava';
import { CapturePart } from '../../../agent/capture/part.ts';
import { enhancedPacket, interfaceDescription, sectionHeader } from '../../../agent/capture/pcapng.ts';
import type { PacketSample } from '../../../agent/packets/types.ts';
import { limits } from '../../../native/index.ts';
import { checkCapture } from '../../../server/pcap-check.ts';
import { eth, ipv4, tcp, udp } from '../../helpers/packets.ts';
import { capinfos, statistics, tsharkPackets } from '../../helpers/pcapng.ts';
import { commands, requireOrSkip } from '../../helpers/privileged.ts';

const SNAP = limits.sampleBytes;

function sample(frame: Buffer, monoNs: bigint, verdict: PacketSample['verdict'] = 'pass'): PacketSample {
  const data = frame.subarray(0, SNAP);
  return { monoNs, wallMs: 0, atMs: 0, length: frame.length, verdict, data: Buffer.from(data), head: null };
}

test('blocks: 32-bit aligned, lengths repeated at the end, odd-sized heads and options padded; the server takes the file', (t) => {
  const blocks = [
    sectionHeader({ comment: 'x', os: 'Linux' }),
    interfaceDescription({ snapLen: SNAP, name: 'eth0' }),
    ...[1, 2, 3, 61, 127, 128].map((n) =>
      enhancedPacket({ timeNs: 1n, data: Buffer.alloc(n, 7), length: 1500, comment: 'abcde'.slice(0, n % 5) }),
    ),
  ];
  for (const b of blocks) {
    t.is(b.length % 4, 0);
    t.is(b.readUInt32LE(4), b.length);
    t.is(b.readUInt32LE(b.length - 4), b.length);
  }
  t.deepEqual(checkCapture(Buffer.concat(blocks)), { format: 'pcapng', packets: 6 });
});

if (requireOrSkip(test, commands('tshark', 'capinfos'))) {
  test('a part read by tshark and capinfos: times, lengths, verdicts, comments, interface and statistics', (t) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bw-pcapng-'));
    t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
    const counts = { packets: 1000, dropped: 10, samplesLost: 3 };
    const part = new CapturePart(dir, { key: 'k1-1', part: 1, family: 'udp_flood', iface: 'bwv0', snapLen: SNAP }, counts, 'now');
    const mono0 = process.hrtime.bigint();
    const wall0 = Date.now();
    const frames = [
      eth(ipv4(udp({ sport: 5353, dport: 27015, payload: 400 }), { src: '198.19.4.5', dst: '198.18.61.1' })),
      eth(ipv4(tcp({ sport: 40000, dport: 80 }), { src: '198.19.6.6', dst: '198.18.61.1' })),
      eth(ipv4(udp({ sport: 53, dport: 3333, payload: 1200 }), { src: '198.19.53.1', dst: '198.18.61.1' })),
    ];
    const verdicts: PacketSample['verdict'][] = ['pass', 'drop', 'allow'];
    // 1.5 ms apart, the third 7 ns after the second: ns resolution survives.
    const gaps = [0n, 1_500_000n, 1_500_007n];
    for (const [i, f] of frames.entries())
      t.true(part.add(sample(f, mono0 + gaps[i]!, verdicts[i]), 1 << 20, i === 1 ? 'incident onset' : undefined));
    t.false(part.add(sample(frames[0]!, mono0), 100), 'a block past the room is refused');
    const file = part.finish({ packets: 1250, dropped: 60, samplesLost: 10 });
    t.is(file, path.join(dir, 'k1-1.1.pcapng'));
    t.false(fs.existsSync(path.join(dir, '.tmp-k1-1.1.pcapng')));

    const pk = tsharkPackets(file!);
    t.is(pk.length, 3);
    t.deepEqual(
      pk.map((p) => [p.src, p.proto, p.sport, p.dport]),
      [
        ['198.19.4.5', 17, 5353, 27015],
        ['198.19.6.6', 6, 40000, 80],
        ['198.19.53.1', 17, 53, 3333],
      ],
    );
    t.deepEqual(
      pk.map((p) => [p.length, p.captured]),
      frames.map((f) => [f.length, Math.min(SNAP, f.length)]),
      'original length and the head',
    );
    t.deepEqual(
      pk.map((p) => p.xdp),
      [2, 1, 2],
      'epb_verdict: XDP_PASS, XDP_DROP, XDP_PASS',
    );
    t.deepEqual(
      pk.map((p) => p.comment),
      ['', 'incident onset', 'breakwater: allowlisted source (passed)'],
    );
    t.true(pk.every((p) => p.inbound));
    t.true(Math.abs(pk[0]!.ms - wall0) < 3, `wall clock from the monotonic one: ${(pk[0]!.ms - wall0).toFixed(3)} ms off`);
    const ns = epbTimes(file!);
    t.is(ns[1]! - ns[0]!, 1_500_000n);
    t.is(ns[2]! - ns[1]!, 7n);

    const info = capinfos(file!);
    t.is(info['Number of packets'], '3');
    t.regex(info['File type']!, /pcapng/);
    t.regex(info['File timestamp precision']!, /nanoseconds/);
    t.is(info['Capture length'], String(SNAP), 'the snap length of the interface');
    t.is(info.Name, 'bwv0');
    t.regex(info['Capture comment']!, /incident k1-1 \(udp_flood\), part 1/);
    t.is(info['Number of stat entries'], '1');

    const [isb] = statistics(file!);
    t.is(isb!.get(4), 250n, 'isb_ifrecv: packets received while the part was open');
    t.is(isb!.get(5), 7n, 'isb_ifdrop: samples lost meanwhile');
    t.is(isb!.get(8), 3n, 'isb_usrdeliv: heads in the file');
    t.regex(String(isb!.get(1)), /50 packets dropped by rules/);
    t.true((isb!.get(3) as bigint) >= (isb!.get(2) as bigint));
  });
}

/** The raw EPB timestamps, ns. */
function epbTimes(file: string): bigint[] {
  const b = fs.readFileSync(file);
  const out: bigint[] = [];
  for (let at = 0; at < b.length; at += b.readUInt32LE(at + 4))
    if (b.readUInt32LE(at) === 6) out.push((BigInt(b.readUInt32LE(at + 12)) << 32n) | BigInt(b.readUInt32LE(at + 16)));
  return out;
}
