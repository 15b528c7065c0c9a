/**
 * One sampled packet against every indicator: the built-in signatures,
 * dispatched by protocol and port so that a packet meets only those that can
 * apply to it (two map reads for most UDP packets, the port-less TCP
 * signatures for TCP ones), and the workspace's patterns (patterns.ts).
 * Only packets whose L4 header is in the head are looked at: a later
 * fragment carries no header and no payload offset to match at.
 */
import type { PacketSample } from '../packets/types.ts';
import { BUILTIN_SIGNATURES } from './builtin/index.ts';
import { PatternIndex } from './patterns.ts';
import { type Indicator, type Packet, type Signature, withHit } from './signature.ts';

interface Dispatch {
  any: Signature[];
  src: Map<number, Signature[]>;
  dst: Map<number, Signature[]>;
}

function dispatch(sigs: readonly Signature[]): Map<number, Dispatch> {
  const byProto = new Map<number, Dispatch>();
  for (const s of sigs) {
    const d: Dispatch = byProto.get(s.proto) ?? { any: [], src: new Map(), dst: new Map() };
    byProto.set(s.proto, d);
    if (!s.port) d.any.push(s);
    else {
      const side = s.port.side === 'src' ? d.src : d.dst;
      side.set(s.port.port, [...(side.get(s.port.port) ?? []), s]);
    }
  }
  return byProto;
}

type Hits = ReadonlySet<Indicator> | null;

function testAll(list: readonly Signature[] | undefined, p: Packet, out: Hits): Hits {
  if (list) for (const sig of list) if (sig.test(p)) out = withHit(out, sig);
  return out;
}

export class Matcher {
  private readonly builtin: Map<number, Dispatch>;
  private patterns = new PatternIndex([]);

  constructor(signatures: readonly Signature[] = BUILTIN_SIGNATURES) {
    this.builtin = dispatch(signatures);
  }

  /** The workspace's patterns from now on. */
  setPatterns(index: PatternIndex): void {
    this.patterns = index;
  }

  /** The indicators one sample matches; null for none (most samples). */
  match(s: Pick<PacketSample, 'data' | 'head' | 'length'>): Hits {
    const head = s.head;
    if (!head || head.payload === undefined) return null;
    const p = s as Packet;
    let out: Hits = null;
    const d = this.builtin.get(head.proto);
    if (d) {
      out = testAll(d.any, p, out);
      if (head.sport !== undefined) out = testAll(d.src.get(head.sport), p, out);
      if (head.dport !== undefined) out = testAll(d.dst.get(head.dport), p, out);
    }
    return this.patterns.match(p, out);
  }
}
