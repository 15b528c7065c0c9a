/**
 * Adaptive talker sampling. The kernel samples 1 packet in `period` into the
 * talker tables (docs/xdp.md); a fixed 64 costs little in a spoofed flood of
 * millions of packets a second, but at a few thousand packets a second it
 * leaves each source of a reflection flood with a handful of samples a
 * second, and auto-mitigation then waits seconds for evidence. So the agent
 * picks the period from the rate it measures: about `targetPerSec` samples a
 * second, a power of two from 1 (every packet, exact counts) to `maxPeriod`.
 * A rise applies at once (the cost of sampling follows the rate); a fall
 * waits until the lower period has been enough for `lowerAfterMs`, so a
 * flood that pulses does not flip the period every tick. Counts stay
 * unbiased across a change: each sample is weighted by the period in force.
 */

export interface SamplingOptions {
  targetPerSec: number;
  maxPeriod: number;
  lowerAfterMs: number;
}

export const DEFAULT_SAMPLING: Readonly<SamplingOptions> = Object.freeze({ targetPerSec: 4096, maxPeriod: 64, lowerAfterMs: 1_000 });

/** The power of two (1..maxPeriod) that samples `pps` at about targetPerSec. */
export function periodFor(pps: number, o: Pick<SamplingOptions, 'targetPerSec' | 'maxPeriod'>): number {
  let p = 1;
  while (p < o.maxPeriod && pps / p > o.targetPerSec) p *= 2;
  return p;
}

export class TalkerSampling {
  private lowerSince: number | null = null;
  /** The largest period in force since the talker window started (rotate()). */
  windowMax: number;

  constructor(
    public period: number,
    private readonly o: SamplingOptions = DEFAULT_SAMPLING,
  ) {
    this.windowMax = period;
  }

  /** The period for the measured rate at `nowMs`; differs from `period` when it should change. */
  next(pps: number, nowMs: number): number {
    const want = periodFor(pps, this.o);
    if (want >= this.period) {
      this.lowerSince = null;
      return want;
    }
    this.lowerSince ??= nowMs;
    return nowMs - this.lowerSince >= this.o.lowerAfterMs ? want : this.period;
  }

  /** Records the period now in force. */
  set(period: number): void {
    if (period !== this.period) this.lowerSince = null;
    this.period = period;
    this.windowMax = Math.max(this.windowMax, period);
  }

  /** A new talker window: only the period now in force weighs its counts. */
  rotate(): void {
    this.windowMax = this.period;
  }
}

/**
 * The weight one admitted sample gives a source, the count of a source seen
 * once: a new key is admitted 1 time in `admit` and weighted to match, except
 * at period 1 where every packet counts once.
 */
export function onceWeight(period: number, admit: number): number {
  return period > 1 ? period * admit : 1;
}
