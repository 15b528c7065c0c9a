/**
 * The agent's end of the kernel's packet sample ring: samples are read as
 * they come (the ring's fd is in libuv's loop), dated on the wall clock,
 * parsed, and handed to every consumer. The rate follows the traffic: while
 * calm about CALM_PER_SEC samples a second (a capture then starts with the
 * seconds before onset), during an attack about ATTACK_PER_SEC, until the
 * incident has had ATTACK_BUDGET samples. The kernel caps each CPU at twice
 * the target a second, so a flood cannot flood user space while the period
 * is a tick behind it. Not at a share of the target: a flood often arrives
 * on one CPU (one receive queue, or one flow hashed to one), and a cap at
 * its share (the target over the CPUs) cut the capture of a 6,400 pps flood
 * on the lab's 2 CPUs for 70 ms of every second (345 samples lost per
 * incident). Over all CPUs that is at most twice the target times the CPUs,
 * and only until the next tick sets the period from the rate.
 */
import type { Sample } from '../../native/index.ts';
import { parseHead } from './head.ts';
import type { PacketSample, SampleConsumer } from './types.ts';

export const CALM_PER_SEC = 200;
export const ATTACK_PER_SEC = 1000;
export const ATTACK_BUDGET = 10_000;

export interface SampleSource {
  onSamples(cb: (samples: Sample[]) => void): void;
  stopSamples(): void;
  setSampling(period: number, maxPerSec?: number): void;
}

/**
 * clock() minus the monotonic clock, in ms: clock read between two monotonic
 * reads, against their midpoint, the tightest of three such brackets. One
 * pair read in turn is skewed by whatever preempts the process between the
 * two reads, for the second of samples it dates (a unit test saw 5 ms under
 * CI load); three brackets are rarely all preempted.
 */
function offsetFromMono(clock: () => number): number {
  let gap = Number.POSITIVE_INFINITY;
  let offset = 0;
  for (let i = 0; i < 3; i++) {
    const before = Number(process.hrtime.bigint()) / 1e6;
    const c = clock();
    const after = Number(process.hrtime.bigint()) / 1e6;
    if (after - before < gap) {
      gap = after - before;
      offset = c - (before + after) / 2;
    }
  }
  return offset;
}

export class SampleTap {
  private period = 0;
  private perSec = 0;
  private attackSamples = 0;
  /** Wall ms and performance.now() minus monotonic ms, refreshed once a second. */
  private offsetMs = 0;
  private perfOffsetMs = 0;
  private offsetAt = Number.NEGATIVE_INFINITY;
  sampled = 0;

  constructor(
    private readonly source: SampleSource,
    private readonly consumers: readonly SampleConsumer[],
  ) {}

  start(): void {
    if (this.consumers.length === 0) return;
    this.source.onSamples((raw) => this.deliver(raw));
    this.adapt(0, false);
  }

  /** The kernel's sample period in force (1 in N packets; 0 while off). */
  get samplePeriod(): number {
    return this.period;
  }

  /** Each tick: the measured rate and whether an incident is open. */
  adapt(pps: number, attack: boolean): void {
    if (this.consumers.length === 0) return;
    if (!attack) this.attackSamples = 0;
    const target = attack && this.attackSamples < ATTACK_BUDGET ? ATTACK_PER_SEC : CALM_PER_SEC;
    const period = Math.max(1, Math.round(pps / target));
    // Re-set only on a real change (a factor of 2), so a noisy rate does not churn the config map.
    if (this.perSec === target && period <= this.period * 2 && period * 2 >= this.period) return;
    this.period = period;
    this.perSec = target;
    this.source.setSampling(period, target * 2);
  }

  private deliver(raw: Sample[]): void {
    const now = performance.now();
    if (now - this.offsetAt > 1000) {
      this.offsetMs = offsetFromMono(Date.now);
      this.perfOffsetMs = offsetFromMono(() => performance.now());
      this.offsetAt = now;
    }
    const batch: PacketSample[] = raw.map((s) => {
      const mono = Number(s.timestampNs) / 1e6;
      return {
        monoNs: s.timestampNs,
        wallMs: mono + this.offsetMs,
        atMs: mono + this.perfOffsetMs,
        length: s.length,
        verdict: s.verdict,
        data: s.data,
        head: parseHead(s.data),
      };
    });
    this.sampled += batch.length;
    if (this.perSec === ATTACK_PER_SEC) this.attackSamples += batch.length;
    for (const c of this.consumers) c.onSamples(batch);
  }

  stop(): void {
    if (this.consumers.length === 0) return;
    this.source.stopSamples();
    this.source.setSampling(0);
  }
}
