/**
 * Countries of an incident's sources (SPEC `geo_breakdown`): every packet
 * sample with an IP head is looked up as it arrives, and those from the
 * incident's onset (`started_at_ms`) to its end (`ended_at_ms`, once it is
 * resolved) are counted, by the samples' `atMs` on the detector's clock. The
 * map reports sampled packets per country (docs/geo.md says why they are not
 * scaled up), and `sampled_packets` the samples it was drawn from, sources the
 * database does not place included (they are left out of the map). When the
 * incident is judged spoofed, `geo_spoofed` says the countries are the ones
 * the forged addresses claim.
 */
import type { IncidentReport } from '../../contract/wire/agent.ts';
import type { DetectorEvent } from '../detect/index.ts';
import type { PacketSample, SampleConsumer } from '../packets/types.ts';
import type { Countries } from './countries.ts';
import { RecentSamples } from './recent.ts';

export interface GeoOptions {
  /** How long a sample waits before it is counted: longer than both the detection delay and the resolve hold. */
  holdBackMs: number;
  /** Most samples held back (beyond, the oldest are counted early); default 32,768. */
  capacity?: number;
}

interface Current {
  seq: number;
  startedAtMs: number;
  endedAtMs: number | null;
  spoofed: boolean;
  resolved: boolean;
}

/**
 * After the onset, up to the end (open-ended until the incident is resolved):
 * a tick covers (its time - interval, its time], and started_at_ms and
 * ended_at_ms are the starts of the first attack tick and of the first quiet one.
 */
const within = (c: Current, atMs: number) => atMs > c.startedAtMs && (c.endedAtMs === null || atMs <= c.endedAtMs);

export class GeoConsumer implements SampleConsumer {
  private readonly recent: RecentSamples;
  /** Samples of the current incident no longer held back, by country index (0: placed nowhere). */
  private readonly counted: Float64Array;
  private current: Current | null = null;
  private readonly count = (atMs: number, cc: number) => {
    if (this.current && within(this.current, atMs)) this.counted[cc]!++;
  };

  constructor(
    private readonly countries: Countries,
    private readonly opts: GeoOptions,
  ) {
    this.recent = new RecentSamples(opts.capacity ?? 32_768);
    this.counted = new Float64Array(countries.table.parts.codes.length);
  }

  onSamples(batch: readonly PacketSample[]): void {
    for (const s of batch) {
      if (!s.head) continue;
      this.recent.drop(s.atMs - this.opts.holdBackMs, this.count);
      this.recent.push(s.atMs, this.countries.indexOf(s.head.src), this.count);
    }
  }

  onIncident(ev: DetectorEvent): void {
    const x = ev.extension;
    if (ev.type === 'opened' || this.current?.seq !== x.seq) {
      this.counted.fill(0);
      this.current = { seq: x.seq, startedAtMs: x.started_at_ms, endedAtMs: null, spoofed: false, resolved: false };
    }
    this.current.endedAtMs = x.ended_at_ms;
    this.current.spoofed = ev.incident.spoofing_detected;
    this.current.resolved = ev.type === 'resolved';
  }

  reportFields(): Partial<IncidentReport> {
    const c = this.current;
    if (!c) return {};
    const totals = Float64Array.from(this.counted);
    this.recent.forEach((atMs, cc) => {
      if (within(c, atMs)) totals[cc]!++;
    });
    const geo: Record<string, number> = {};
    const order = [...totals.keys()].filter((i) => i !== 0 && totals[i]! > 0).map((i) => [this.countries.codeOf(i)!, totals[i]!] as const);
    order.sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)); // largest first, then by code
    for (const [code, n] of order) geo[code] = n;
    if (c.resolved) this.current = null;
    const sampled = totals.reduce((a, b) => a + b, 0);
    return { geo_breakdown: geo, geo_spoofed: c.spoofed, sampled_packets: sampled };
  }
}
