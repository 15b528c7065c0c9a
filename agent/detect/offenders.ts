/**
 * Choosing sources to drop during an incident (local auto-mitigation), and
 * the memory of sources seen in normal traffic that must never be chosen.
 * pickOffenders takes the heaviest sources, in order, until they carry the
 * wanted share of the attack; sources remembered from normal traffic are
 * skipped whatever their weight. When a few sources cannot carry most of the
 * attack (spoofed or widely distributed floods) `sufficient` is false and
 * dropping them would not help.
 */
import type { SourceCount } from './types.ts';

export interface SourceMemoryState {
  version: 1;
  /** [ip, last seen ms] pairs, oldest first. */
  entries: [string, number][];
}

/**
 * Sources seen in normal traffic, bounded, least recently seen evicted first.
 * A sighting is first held on probation (propose) and becomes a memory only
 * when the traffic stayed calm for a while after it (confirm): the first tick
 * of a flood often carries only a few of its packets, looks calm, and would
 * otherwise teach the attack's own sources as normal.
 */
export class SourceMemory {
  private readonly seen = new Map<string, number>();
  private pending = new Map<string, number>();

  constructor(
    readonly capacity = 4096,
    saved?: unknown,
  ) {
    const st = saved as Partial<SourceMemoryState> | undefined;
    if (st?.version === 1 && Array.isArray(st.entries)) {
      for (const e of st.entries) {
        if (Array.isArray(e) && typeof e[0] === 'string' && typeof e[1] === 'number') this.observe(e[0], e[1]);
      }
    }
  }

  observe(ip: string, atMs: number): void {
    this.seen.delete(ip); // re-insert: Map order is recency order
    this.seen.set(ip, atMs);
    if (this.seen.size > this.capacity) {
      const oldest = this.seen.keys().next().value;
      if (oldest !== undefined) this.seen.delete(oldest);
    }
  }

  /** A sighting on probation: remembered by a later confirm(), forgotten by discardPending(). */
  propose(ip: string, atMs: number): void {
    // The first sighting's time counts; a full probation list takes no more.
    if (this.pending.has(ip) || this.pending.size >= this.capacity) return;
    this.pending.set(ip, atMs);
  }

  /** Remembers the sightings on probation made at or before `upToMs`. */
  confirm(upToMs: number): void {
    for (const [ip, at] of this.pending) {
      if (at > upToMs) continue;
      this.observe(ip, at);
      this.pending.delete(ip);
    }
  }

  /** Forgets every sighting on probation (the traffic turned out not to be calm). */
  discardPending(): void {
    this.pending.clear();
  }

  has(ip: string): boolean {
    return this.seen.has(ip);
  }

  get size(): number {
    return this.seen.size;
  }

  exportState(): SourceMemoryState {
    return { version: 1, entries: [...this.seen.entries()] };
  }
}

export interface OffenderOptions {
  /** Share of the attack's packets the chosen sources should carry (default 0.8). */
  coverage?: number;
  /** At most this many sources (default 32). */
  maxSources?: number;
  /** Ignore sources under this share of the attack (default 0.005). */
  minShare?: number;
}

export interface OffenderPick {
  sources: SourceCount[];
  /** Share of `attackPackets` the chosen sources carry. */
  share: number;
  /** True when `share` reached the wanted coverage. */
  sufficient: boolean;
}

/**
 * @param top sources of the attack window with packet counts
 * @param attackPackets packets of the whole attack in that window
 * @param normal sources seen before the attack: never returned
 */
export function pickOffenders(
  top: readonly SourceCount[],
  attackPackets: number,
  normal: { has(ip: string): boolean },
  opts: OffenderOptions = {},
): OffenderPick {
  const coverage = opts.coverage ?? 0.8;
  const maxSources = opts.maxSources ?? 32;
  const minShare = opts.minShare ?? 0.005;
  const sources: SourceCount[] = [];
  let carried = 0;
  if (!(attackPackets > 0)) return { sources, share: 0, sufficient: false };
  const sorted = [...top].sort((x, y) => y.count - x.count);
  for (const s of sorted) {
    if (sources.length >= maxSources || carried >= coverage * attackPackets) break;
    if (s.count < minShare * attackPackets) break;
    if (normal.has(s.ip)) continue;
    sources.push({ ip: s.ip, count: s.count });
    carried += s.count;
  }
  const share = Math.min(1, carried / attackPackets);
  return { sources, share, sufficient: share >= coverage };
}
