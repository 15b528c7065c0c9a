// Two cases compared on a noisy machine: run back to back, in alternating
// order, many times, and the difference taken within each pair. Whatever
// slows the machine for a while (a busy sibling hyperthread, another guest)
// then slows both runs of a pair alike and cancels out, where separate medians
// keep it: on the 2-core VM, one case's medians spread 48-89 ns over a day's
// runs, while the median of 61 paired differences moved by 2-4 ns.

export type Timed = (repeat: number) => { durationNs: number };

export interface PairedSummary {
  /** Median of the differences a - b, ns per packet. */
  median: number;
  p25: number;
  p75: number;
  /** Pairs in which a cost no more than b. */
  atOrUnder: number;
  pairs: number;
}

const quantile = (sorted: number[], q: number) => sorted[Math.round((sorted.length - 1) * q)]!;

/** Times a and b `pairs` times each, back to back, alternating which goes first. */
export function paired(a: Timed, b: Timed, pairs: number, repeat: number): PairedSummary {
  const d: number[] = [];
  for (let i = 0; i < pairs; i++) {
    if (i % 2) {
      const x = a(repeat).durationNs;
      d.push(x - b(repeat).durationNs);
    } else {
      const y = b(repeat).durationNs;
      d.push(a(repeat).durationNs - y);
    }
  }
  const sorted = [...d].sort((x, y) => x - y);
  return {
    median: quantile(sorted, 0.5),
    p25: quantile(sorted, 0.25),
    p75: quantile(sorted, 0.75),
    atOrUnder: d.filter((x) => x <= 0).length,
    pairs,
  };
}
