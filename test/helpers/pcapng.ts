// Reading captures in tests: tshark's view of every packet (the reader an
// operator uses), capinfos' summary, and the interface statistics block,
// which neither prints, read here from the file's blocks (little-endian).
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';

export interface TsharkPacket {
  /** Wall-clock ms, to the ns tshark prints. */
  ms: number;
  src: string;
  proto: number;
  sport?: number;
  dport?: number;
  length: number;
  captured: number;
  /** epb_verdict of type eBPF XDP: 1 drop, 2 pass. */
  xdp?: number;
  comment: string;
  inbound: boolean;
}

const FIELDS = ['frame.time_epoch', 'ip.src', 'ip.proto', 'udp.srcport', 'tcp.srcport', 'udp.dstport', 'tcp.dstport', 'frame.len'];
const MORE = ['frame.cap_len', 'frame.verdict.ebpf_xdp', 'frame.comment', 'frame.packet_flags_direction'];

/** Every packet as tshark reads it (throws if tshark cannot read the file). */
export function tsharkPackets(file: string): TsharkPacket[] {
  const args = ['-r', file, '-T', 'fields', '-E', 'separator=\t', '-E', 'occurrence=f', ...[...FIELDS, ...MORE].flatMap((f) => ['-e', f])];
  const out = execFileSync('tshark', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 256 << 20 });
  const num = (v: string | undefined) => (v ? Number(v) : undefined);
  return out
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const f = line.split('\t');
      const [sec, frac = ''] = f[0]!.split('.');
      return {
        ms: Number(sec) * 1000 + Number(`0.${frac}`) * 1000,
        src: f[1] ?? '',
        proto: Number(f[2] || 0),
        sport: num(f[3] || f[4]),
        dport: num(f[5] || f[6]),
        length: Number(f[7]),
        captured: Number(f[8]),
        xdp: num(f[9]),
        comment: f[10] ?? '',
        inbound: f[11] === '1' || f[11] === '0x00000001' || f[11] === 'Inbound',
      };
    });
}

/** capinfos' lines as key -> value ("Number of packets" -> "3"). */
export function capinfos(file: string): Record<string, string> {
  const out = execFileSync('capinfos', [file], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  const info: Record<string, string> = {};
  for (const line of out.split('\n')) {
    const m = /^\s*([^:=]+?)\s*[:=]\s*(.*)$/.exec(line);
    if (m && !(m[1]! in info)) info[m[1]!] = m[2]!.trim();
  }
  return info;
}

/** The options of every interface statistics block: code -> value (times and counts as bigint, the comment as text). */
export function statistics(file: string): Map<number, bigint | string>[] {
  const b = fs.readFileSync(file);
  const out: Map<number, bigint | string>[] = [];
  for (let at = 0; at + 12 <= b.length; ) {
    const type = b.readUInt32LE(at),
      len = b.readUInt32LE(at + 4);
    if (len < 12) throw new Error(`bad block length ${len} at ${at}`);
    if (type === 5) {
      const opts = new Map<number, bigint | string>();
      for (let o = at + 20; o + 4 <= at + len - 4; ) {
        const code = b.readUInt16LE(o),
          n = b.readUInt16LE(o + 2);
        if (code === 0) break;
        const v = b.subarray(o + 4, o + 4 + n);
        const time = code === 2 || code === 3; // high and low 32 bits
        opts.set(
          code,
          code === 1 ? v.toString('utf8') : time ? (BigInt(v.readUInt32LE(0)) << 32n) | BigInt(v.readUInt32LE(4)) : v.readBigUInt64LE(0),
        );
        o += 4 + n + ((4 - (n % 4)) % 4);
      }
      out.push(opts);
    }
    at += len;
  }
  return out;
}
