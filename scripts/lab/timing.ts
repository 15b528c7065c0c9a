// Pure analysis of the victim's counters, polled every few milliseconds:
// when a flood began (onset) and when it started being dropped. Neutral: it
// reads the kernel's own interface and IP counters, not Breakwater's.
//
//   rx:   packets the victim's interface received (XDP drops included)
//   ipIn: packets that reached the IP layer (Ip InReceives), i.e. passed XDP

export interface Point {
  /** Wall-clock ms of the reading. */
  t: number;
  rx: number;
  ipIn: number;
}

/** Index of the last point at or before t, or -1. */
function at(series: readonly Point[], t: number): number {
  let lo = 0,
    hi = series.length - 1,
    found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (series[mid]!.t <= t) {
      found = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return found;
}

/**
 * Onset: the start of the first reading interval, at or after `from`, that
 * received packets at 30% of the flood's rate or more (minPackets per
 * windowMs) and is followed within `windowMs` by at least `minPackets` (so
 * background packets are not taken for it). Conservative: the flood began
 * within that interval, not earlier.
 */
export function findOnset(series: readonly Point[], from: number, minPackets: number, windowMs = 100): number | undefined {
  for (let i = Math.max(1, at(series, from)); i < series.length; i++) {
    const prev = series[i - 1]!,
      cur = series[i]!;
    // The interval itself must look like the flood (30% of its rate), not like a background packet.
    if (prev.t < from || cur.rx - prev.rx < Math.max(1, (0.3 * minPackets * (cur.t - prev.t)) / windowMs)) continue;
    const j = at(series, prev.t + windowMs);
    if (series[series.length - 1]!.t < prev.t + windowMs) return undefined; // not enough readings yet
    if (series[j]!.rx - prev.rx >= minPackets) return prev.t;
  }
  return undefined;
}

/**
 * Drop: the start of the first window of `windowMs` after onset in which at
 * least `minPackets` arrived and at most `passShare` of them passed to the
 * IP layer.
 */
export function findDrop(series: readonly Point[], onset: number, minPackets: number, passShare = 0.1, windowMs = 50): number | undefined {
  for (let i = Math.max(0, at(series, onset)); i < series.length; i++) {
    const a = series[i]!;
    if (series[series.length - 1]!.t < a.t + windowMs) return undefined; // not enough readings yet
    const j = at(series, a.t + windowMs);
    // A stalled reader leaves a longer gap: such a window says less, but still what share passed.
    const b = series[j === i ? i + 1 : j]!;
    const rx = b.rx - a.rx,
      passed = b.ipIn - a.ipIn;
    if (rx >= minPackets && passed <= rx * passShare) return a.t;
  }
  return undefined;
}

/** Packets received and packets dropped before the IP layer between two times. */
export function between(series: readonly Point[], from: number, to: number): { received: number; dropped: number } {
  const i = Math.max(0, at(series, from)),
    j = at(series, to);
  if (j < 0 || j <= i) return { received: 0, dropped: 0 };
  const a = series[i]!,
    b = series[j]!;
  return { received: b.rx - a.rx, dropped: Math.max(0, b.rx - a.rx - (b.ipIn - a.ipIn)) };
}
