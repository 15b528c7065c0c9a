// What an incident's capture says about its attack, as the end-to-end test
// checks it: the packets from before the onset, the flood's own packets (the
// lab's sources and protocol for the attack, its operator rule), and where
// the first flood packet and the first one dropped by XDP fall on the lab's
// clock.
import { contains, prefixOf } from '../../contract/net/prefix.ts';
import type { Attack } from '../../scripts/lab/index.ts';
import type { TsharkPacket } from './pcapng.ts';

const PROTO = { tcp: 6, udp: 17, icmp: 1 } as const;

export interface CaptureFacts {
  packets: number;
  /** Not the flood, before the onset: count, and how far before the onset the first and the last lie, ms. */
  before: number;
  beforeFromMs?: number;
  beforeToMs?: number;
  flood: number;
  /** The first flood packet, and the first the XDP program dropped, on the wall clock (ms). */
  firstFloodMs?: number;
  firstDropMs?: number;
  /** The share of flood packets with a drop verdict from 50 ms after the first on. */
  droppedAfter: number;
  /** What the capture holds from the onset to the first flood packet (for a failure's message). */
  between: string;
}

export function captureFacts(packets: readonly TsharkPacket[], attack: Attack, onsetAt: number): CaptureFacts {
  const rule = prefixOf(attack.rule.source);
  const proto = attack.rule.protocol ? PROTO[attack.rule.protocol] : undefined;
  // A second of slack before the onset, and no more: an earlier attack from the same range is not this flood.
  const isFlood = (p: TsharkPacket) =>
    p.src !== '' && contains(rule, prefixOf(p.src)) && (proto === undefined || p.proto === proto) && p.ms >= onsetAt - 1000;
  const flood = packets.filter(isFlood).sort((a, b) => a.ms - b.ms);
  const before = packets.filter((p) => !isFlood(p) && p.ms < onsetAt).sort((a, b) => a.ms - b.ms);
  const firstDrop = flood.find((p) => p.xdp === 1);
  const after = firstDrop ? flood.filter((p) => p.ms >= firstDrop.ms + 50) : [];
  return {
    packets: packets.length,
    before: before.length,
    beforeFromMs: before.length ? onsetAt - before[0]!.ms : undefined,
    beforeToMs: before.length ? onsetAt - before.at(-1)!.ms : undefined,
    flood: flood.length,
    firstFloodMs: flood[0]?.ms,
    firstDropMs: firstDrop?.ms,
    droppedAfter: after.length ? after.filter((p) => p.xdp === 1).length / after.length : 0,
    between: describe(
      packets.filter((p) => p.ms >= onsetAt && p.ms < (flood[0]?.ms ?? onsetAt)),
      onsetAt,
    ),
  };
}

/** Count, and the first few as "src proto at +ms". */
function describe(packets: readonly TsharkPacket[], onsetAt: number): string {
  const first = packets.slice(0, 5).map((p) => `${p.src || '?'} ${p.proto} at +${Math.round(p.ms - onsetAt)} ms`);
  return `${packets.length} packets${first.length ? ` (${first.join(', ')}${packets.length > 5 ? ', ...' : ''})` : ''}`;
}
