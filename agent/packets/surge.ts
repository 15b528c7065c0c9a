/**
 * The surge watch: the kernel's packet samples arrive as they are taken,
 * tens of ms before the next tick would read the counters, so a flood far
 * over the threshold shows in them first. From the newest samples (each
 * weighing the sample period in force) it estimates the current rate; when
 * that is over surgeRatio x the threshold, in packets or in bits, it asks the
 * agent for two extra ticks: one at once, which closes the calm part of the
 * current tick, and one cutMs later, a tick of the flood alone, on which the
 * detector's surge path (agent/detect/confirm.ts) opens. The detector judges
 * the kernel's counters, never this estimate: a false alarm costs two
 * snapshots, no incident. Armed only while no incident is open. After a
 * trigger it is quiet for quietMs, doubled at each trigger that follows
 * within 2 x maxQuietMs up to maxQuietMs: a flood that ramps up gets another
 * look 40 ms later, bursty traffic that never opens costs a few snapshots a
 * second at most. Samples are capped per CPU (agent/packets/tap.ts); the
 * estimate needs only the first few dozen of a flood's.
 */
import type { PacketSample, SampleConsumer } from './types.ts';

export interface SurgeOptions {
  /** Multiple of the threshold the estimated rate must reach. */
  ratio: number;
  /** Samples the estimate spans, and the least time they may cover (ms). */
  samples: number;
  minSpanMs: number;
  /** Between the two extra ticks (ms): at least the detector's surgeMs. */
  cutMs: number;
  /** After a trigger, none for this long (ms); doubled for each trigger in a row, up to maxQuietMs. */
  quietMs: number;
  maxQuietMs: number;
}

export const DEFAULT_SURGE: Readonly<SurgeOptions> = Object.freeze({
  ratio: 6,
  samples: 32,
  minSpanMs: 5,
  cutMs: 30,
  quietMs: 40,
  maxQuietMs: 1_000,
});

export interface SurgeState {
  /** The detector's thresholds in force. */
  pps: number;
  bps: number;
  /** The kernel's sample period in force (1 in N packets). */
  period: number;
  /** False while an incident is open. */
  armed: boolean;
}

export class SurgeWatch implements SampleConsumer {
  private state: SurgeState = { pps: Number.POSITIVE_INFINITY, bps: Number.POSITIVE_INFINITY, period: 1, armed: false };
  /** Arrival (atMs) and length of the newest samples, a ring of o.samples. */
  private readonly at: Float64Array;
  private readonly len: Float64Array;
  private n = 0;
  private lastFiredMs = Number.NEGATIVE_INFINITY;
  private quietMs: number;
  fired = 0;

  constructor(
    private readonly tick: (delayMs: number) => void,
    private readonly o: SurgeOptions = DEFAULT_SURGE,
  ) {
    this.quietMs = o.quietMs;
    this.at = new Float64Array(o.samples);
    this.len = new Float64Array(o.samples);
  }

  /** Each tick: the thresholds and the period in force, and whether the detector is idle. */
  update(s: SurgeState): void {
    if (s.period !== this.state.period) this.n = 0; // samples of another weight
    this.state = s;
  }

  onSamples(batch: readonly PacketSample[]): void {
    if (!this.state.armed) return;
    const k = this.o.samples;
    for (const s of batch) {
      const i = this.n++ % k;
      this.at[i] = s.atMs;
      this.len[i] = s.length;
    }
    if (this.n < k) return;
    const newest = this.at[(this.n - 1) % k]!;
    const oldest = this.at[this.n % k]!;
    if (newest - this.lastFiredMs < this.quietMs) return;
    const span = Math.max(newest - oldest, this.o.minSpanMs);
    // k samples span k - 1 gaps between them.
    const pps = ((k - 1) * this.state.period * 1000) / span;
    let bytes = 0;
    for (let j = 0; j < k; j++) bytes += this.len[j]!;
    const bps = (((bytes * (k - 1)) / k) * 8 * this.state.period * 1000) / span;
    if (pps < this.o.ratio * this.state.pps && bps < this.o.ratio * this.state.bps) return;
    const inARow = newest - this.lastFiredMs < 2 * this.o.maxQuietMs;
    this.quietMs = inARow ? Math.min(this.quietMs * 2, this.o.maxQuietMs) : this.o.quietMs;
    this.lastFiredMs = newest;
    this.fired++;
    this.tick(0);
    this.tick(this.o.cutMs);
  }
}
