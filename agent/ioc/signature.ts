/**
 * What the IOC matcher works on and reports: a sampled packet whose L4
 * header was in its head (so `payload` is known), the built-in signatures'
 * shape, and the indicator a match names (SPEC `ioc_matches` entries, built
 * by contract/wire/ioc.ts's `iocMatch`).
 */
import type { AttackFamily } from '../../contract/enums.ts';
import type { Head } from '../packets/head.ts';

export const TCP = 6;
export const UDP = 17;

/** A sampled packet the matchers read: the head's bytes and what head.ts parsed of them. */
export interface Packet {
  /** The first bytes of the frame (at most BW_SAMPLE_BYTES). */
  data: Buffer;
  head: Head & { payload: number };
  /** Frame length on the wire. */
  length: number;
}

/** What a match reports; one object per indicator, shared by every match of it. */
export interface Indicator {
  attack_name: string;
  attack_family: AttackFamily;
  source: 'builtin' | 'workspace';
  /** The botnet or tool the indicator names: a match counts towards botnet_detected. */
  botnet?: string;
}

/**
 * A built-in signature: fixed traits of one tool's or one protocol's packets,
 * checked at fixed offsets. `port` binds it to a UDP or TCP port on one side
 * (the matcher only calls it for packets with that port there); without one,
 * it is called for every packet of its protocol, and must reject cheaply.
 */
export interface Signature extends Indicator {
  source: 'builtin';
  proto: typeof TCP | typeof UDP;
  port?: { side: 'src' | 'dst'; port: number };
  test(p: Packet): boolean;
}

/** The L4 payload's bytes that the head holds, as latin1 text (for the text protocols' checks). */
export function payloadText(p: Packet, max = 128): string {
  return p.data.toString('latin1', p.head.payload, Math.min(p.data.length, p.head.payload + max));
}

/** Whether the payload starts with `prefix` (ASCII), read from the head. */
export function startsWith(p: Packet, prefix: Buffer, at = 0): boolean {
  const from = p.head.payload + at;
  return p.data.length >= from + prefix.length && p.data.compare(prefix, 0, prefix.length, from, from + prefix.length) === 0;
}

const singles = new WeakMap<Indicator, ReadonlySet<Indicator>>();

/**
 * `hits` with `ind` added. A packet matches one indicator nearly always: that
 * set is one shared, never-changed set per indicator, so a flood of matches
 * allocates nothing (the tally keeps every sample's hits for a while).
 */
export function withHit(hits: ReadonlySet<Indicator> | null, ind: Indicator): ReadonlySet<Indicator> {
  if (hits === null) {
    const s = singles.get(ind) ?? new Set([ind]);
    singles.set(ind, s);
    return s;
  }
  return hits.has(ind) ? hits : new Set([...hits, ind]);
}
