/**
 * Matches counted over one incident, from its onset (the detector's
 * `started_at_ms`) to its end (`ended_at_ms`, when the traffic fell under the
 * threshold), on the detector's clock that samples carry as `atMs`. The
 * incident opens after its onset and resolves a hold after its end, so the
 * last RING samples are kept (time and matches): at the open they are
 * counted back to the onset, at the resolve the ones after the end are taken
 * out again. RING covers the seconds before an open at the calm sample rate
 * and a resolve's hold at the attack rate (agent/packets/tap.ts).
 */
import type { Indicator } from './signature.ts';

export const RING = 16_384;

export class IncidentTally {
  private readonly at = new Float64Array(RING);
  private readonly hits: (ReadonlySet<Indicator> | null)[] = new Array(RING).fill(null);
  private next = 0;
  private filled = 0;
  private open = false;
  private startMs = 0;
  /** Samples of the incident, and of them those that matched each indicator. */
  samples = 0;
  readonly counts = new Map<Indicator, number>();

  add(atMs: number, hits: ReadonlySet<Indicator> | null): void {
    this.at[this.next] = atMs;
    this.hits[this.next] = hits;
    this.next = (this.next + 1) % RING;
    this.filled = Math.min(RING, this.filled + 1);
    if (this.open && atMs >= this.startMs) this.count(hits, 1);
  }

  /** A new incident from `startMs` on: the samples kept since then count. */
  start(startMs: number): void {
    this.open = true;
    this.startMs = startMs;
    this.samples = 0;
    this.counts.clear();
    this.each((at, hits) => {
      if (at >= startMs) this.count(hits, 1);
    });
  }

  /** The incident ended at `endMs` (null: unknown); samples after it are taken out, and no more count. */
  end(endMs: number | null): void {
    if (!this.open) return;
    this.open = false;
    if (endMs === null) return;
    this.each((at, hits) => {
      if (at >= endMs && at >= this.startMs) this.count(hits, -1);
    });
  }

  private count(hits: ReadonlySet<Indicator> | null, by: 1 | -1): void {
    this.samples += by;
    if (hits) for (const i of hits) this.counts.set(i, (this.counts.get(i) ?? 0) + by);
  }

  private each(f: (at: number, hits: ReadonlySet<Indicator> | null) => void): void {
    for (let k = 0; k < this.filled; k++) {
      const i = (this.next - 1 - k + RING) % RING;
      f(this.at[i]!, this.hits[i] ?? null);
    }
  }
}
