/**
 * Spoofing rule (docs/detection.md, "Spoofed sources"). Real hosts start with
 * TTL 64, 128 or 255 and are at most ~32 hops away, so their packets arrive
 * with a TTL in [32,64], [96,128] or [223,255]. Given enough packets and many
 * sources, an incident is spoofed when any of these holds:
 *   (a) at least 25% of packets carry a TTL outside those bands;
 *   (b) at least 1000 sources, yet one TTL value carries 90% of the packets
 *       (one sender forging many addresses: real sources spread over hop counts);
 *   (c) at least 1000 sources sending 2 or fewer packets each in the window
 *       (random source addresses, each seen about once).
 */

export const INITIAL_TTLS = [64, 128, 255] as const;
export const MAX_HOPS = 32;

export const SPOOF_RULE = Object.freeze({
  minPackets: 1_000,
  minSources: 256,
  implausibleShare: 0.25,
  manySources: 1_000,
  singleTtlShare: 0.9,
  maxPacketsPerSource: 2,
});

export interface SpoofInput {
  ttlHistogram: readonly number[];
  /** Distinct sources in a talker window. */
  distinctSources: number;
  /** Packets in that same window. */
  windowPackets: number;
}

export interface SpoofVerdict {
  spoofed: boolean;
  /** Which of the rules (a, b, c) held. */
  reasons: ('ttl_implausible' | 'ttl_single_value' | 'sources_random')[];
  implausibleShare: number;
  topTtlShare: number;
  packetsPerSource: number;
}

/** True when a received TTL fits a real host: initial TTL minus 0..MAX_HOPS hops. */
export function plausibleTtl(ttl: number): boolean {
  return INITIAL_TTLS.some((init) => ttl <= init && ttl >= init - MAX_HOPS);
}

export function judgeSpoofing(x: SpoofInput): SpoofVerdict {
  let total = 0;
  let implausible = 0;
  let top = 0;
  x.ttlHistogram.forEach((n, ttl) => {
    total += n;
    if (!plausibleTtl(ttl)) implausible += n;
    top = Math.max(top, n);
  });
  const implausibleShare = total > 0 ? implausible / total : 0;
  const topTtlShare = total > 0 ? top / total : 0;
  const packetsPerSource = x.distinctSources > 0 ? x.windowPackets / x.distinctSources : Infinity;
  const r = SPOOF_RULE;
  const reasons: SpoofVerdict['reasons'] = [];
  if (total >= r.minPackets && x.distinctSources >= r.minSources) {
    if (implausibleShare >= r.implausibleShare) reasons.push('ttl_implausible');
    if (x.distinctSources >= r.manySources && topTtlShare >= r.singleTtlShare) reasons.push('ttl_single_value');
    if (x.distinctSources >= r.manySources && packetsPerSource <= r.maxPacketsPerSource) reasons.push('sources_random');
  }
  return { spoofed: reasons.length > 0, reasons, implausibleShare, topTtlShare, packetsPerSource };
}
