/**
 * The detector: samples and config in, incident events out. Pure: no I/O, no
 * clock reads, no timers; time is the samples' timestamps. States: idle
 * (learning the baseline, the normal profile and normal sources from quiet
 * ticks), then an open incident (thresholds frozen) until every tick has been
 * under closeRatio x threshold for holdMs. See docs/detection.md.
 */
import { type Aggregate, addSample, emptyAggregate } from './aggregate.ts';
import { type BaselineState, emptyBaseline, learnSecond, parseBaseline } from './baseline.ts';
import { classify } from './classify.ts';
import { shouldOpen, type Tick, trimHistory } from './confirm.ts';
import { FamilyHold } from './family-hold.ts';
import { SourceMemory, type SourceMemoryState } from './offenders.ts';
import { emptyProfile, featuresOf, learnProfile, type ProfileState, parseProfile } from './profile.ts';
import { buildFields } from './report.ts';
import { computeThresholds, type Thresholds } from './thresholds.ts';
import { resolveTuning } from './tuning.ts';
import type { DetectorConfig, DetectorEvent, DetectorEventType, DetectorTuning, TrafficSample } from './types.ts';

/** What the agent persists across restarts (plain JSON). */
export interface DetectorState {
  version: 1;
  baseline: BaselineState;
  profile: ProfileState;
  normalSources: SourceMemoryState;
}

interface Incident {
  seq: number;
  startedAtMs: number;
  /** The tick it opened on. */
  openedAtMs: number;
  thresholds: Thresholds;
  agg: Aggregate;
  /** The family reported: a change must hold for familyHoldMs (family-hold.ts). */
  family: FamilyHold;
  lastSentMs: number;
  updatesSent: number;
  belowSinceMs: number | null;
}

export class Detector {
  private cfg: DetectorConfig;
  private tuning: DetectorTuning;
  private baseline: BaselineState;
  private profile: ProfileState;
  readonly normalSources: SourceMemory;
  private history: Tick[] = [];
  private lastMs: number | null = null;
  private learn = { ms: 0, packets: 0, bits: 0, lastMs: null as number | null };
  private incident: Incident | null = null;
  private seq = 0;

  constructor(config: DetectorConfig, saved?: unknown) {
    this.cfg = config;
    this.tuning = resolveTuning(config.tuning);
    const st = (typeof saved === 'object' && saved !== null ? saved : {}) as Record<string, unknown>;
    this.baseline = parseBaseline(st.baseline) ?? emptyBaseline();
    this.profile = parseProfile(st.profile) ?? emptyProfile();
    this.normalSources = new SourceMemory(4096, st.normalSources);
  }

  /** New server config; an open incident keeps the thresholds it opened with. */
  setConfig(config: DetectorConfig): void {
    this.cfg = config;
    this.tuning = resolveTuning(config.tuning);
  }

  thresholds(): Thresholds {
    return this.incident?.thresholds ?? computeThresholds(this.cfg, this.tuning, this.baseline);
  }

  get active(): boolean {
    return this.incident !== null;
  }

  /**
   * An incident is open and the last tick was at or over the threshold: the
   * flood is on now, not in the quiet hold before the incident resolves
   * (when whatever traffic is left would look like the attack).
   */
  get flooding(): boolean {
    const last = this.history[this.history.length - 1];
    return this.incident !== null && last !== undefined && last.ratio >= this.tuning.confirmRatio;
  }

  exportState(): DetectorState {
    return structuredClone({
      version: 1 as const,
      baseline: this.baseline,
      profile: this.profile,
      normalSources: this.normalSources.exportState(),
    });
  }

  /** Feeds one tick; returns the events it causes (usually none). */
  push(s: TrafficSample): DetectorEvent[] {
    const now = s.timestampMs;
    if (!(s.intervalMs > 0) || !Number.isFinite(now) || (this.lastMs !== null && now <= this.lastMs)) return [];
    if (this.lastMs !== null && now - this.lastMs > this.tuning.maxGapMs + s.intervalMs) this.history = [];
    this.lastMs = now;
    const thr = this.thresholds();
    const ratio = Math.max(s.pps / thr.pps, s.bps / thr.bps);
    this.history.push({ sample: s, ratio });
    trimHistory(this.history, now, this.tuning);
    return this.incident ? this.during(this.incident, s, ratio) : this.idle(s, thr);
  }

  private idle(s: TrafficSample, thr: Thresholds): DetectorEvent[] {
    const t = this.tuning;
    if (shouldOpen(this.history, t)) {
      this.settleSightings(); // a flood can open on its first full tick
      const agg = emptyAggregate();
      for (const h of this.history) if (h.ratio >= t.confirmRatio || h.ratio >= t.fastRatio) addSample(agg, h.sample);
      this.incident = {
        seq: ++this.seq,
        startedAtMs: this.onsetMs(),
        thresholds: thr,
        agg,
        family: new FamilyHold(classify(agg, this.profile.rates, t.vectorShare), t.familyHoldMs),
        openedAtMs: s.timestampMs,
        lastSentMs: s.timestampMs,
        updatesSent: 0,
        belowSinceMs: null,
      };
      return [this.event('opened', s.timestampMs, null)];
    }
    if (this.history.every((h) => h.ratio < t.confirmRatio)) this.learnFrom(s);
    else this.settleSightings();
    return [];
  }

  /**
   * A tick went over the threshold: the sightings on probation from well
   * before it began are remembered, the rest (the attack's own first calm
   * tick among them) forgotten.
   */
  private settleSightings(): void {
    this.normalSources.confirm(this.onsetMs() - this.tuning.normalBeforeOnsetMs);
    this.normalSources.discardPending();
  }

  private during(inc: Incident, s: TrafficSample, ratio: number): DetectorEvent[] {
    const now = s.timestampMs;
    let changed = false;
    if (ratio >= this.tuning.closeRatio) {
      addSample(inc.agg, s);
      changed = inc.family.observe(classify(inc.agg, this.profile.rates, this.tuning.vectorShare), now);
      inc.belowSinceMs = null;
    } else {
      inc.belowSinceMs ??= now - s.intervalMs;
    }
    if (inc.belowSinceMs !== null && now - inc.belowSinceMs >= this.tuning.holdMs) {
      const ev = this.event('resolved', now, inc.belowSinceMs);
      this.incident = null;
      this.history = [];
      return [ev];
    }
    const t = this.tuning;
    // Two updates at fixed times after the opening, then one every updateMs; and one when the family changes.
    const due =
      inc.updatesSent < 2
        ? now - inc.openedAtMs >= (inc.updatesSent === 0 ? t.earlyUpdateMs : t.firstUpdateMs)
        : now - inc.lastSentMs >= t.updateMs;
    if (due || changed) {
      inc.lastSentMs = now;
      if (due) inc.updatesSent++;
      return [this.event('updated', now, null)];
    }
    return [];
  }

  /** Start of the first tick at or over the threshold in the current history. */
  private onsetMs(): number {
    const first = this.history.find((h) => h.ratio >= this.tuning.confirmRatio) ?? this.history[this.history.length - 1];
    return first ? first.sample.timestampMs - first.sample.intervalMs : 0;
  }

  private learnFrom(s: TrafficSample): void {
    const t = this.tuning;
    learnProfile(this.profile, featuresOf(s), s.intervalMs, t.profileHalfLifeMs);
    for (const src of s.topSources) this.normalSources.propose(src.ip, s.timestampMs);
    this.normalSources.confirm(s.timestampMs - t.normalLagMs);
    const l = this.learn;
    l.ms += s.intervalMs;
    l.packets += (s.pps * s.intervalMs) / 1000;
    l.bits += (s.bps * s.intervalMs) / 1000;
    if (l.ms < 1000) return;
    const elapsed = l.lastMs === null ? 1000 : s.timestampMs - l.lastMs;
    learnSecond(this.baseline, (l.packets * 1000) / l.ms, (l.bits * 1000) / l.ms, elapsed, t.baselineHalfLifeMs);
    this.learn = { ms: 0, packets: 0, bits: 0, lastMs: s.timestampMs };
  }

  private event(type: DetectorEventType, atMs: number, endedAtMs: number | null): DetectorEvent {
    const inc = this.incident;
    if (!inc) throw new Error('no open incident');
    const c = inc.family.current;
    return {
      type,
      atMs,
      incident: buildFields(inc.agg, c, inc.thresholds, this.normalSources),
      extension: {
        seq: inc.seq,
        attack_subtype: c.subtype,
        vectors: c.vectors,
        threshold_pps: inc.thresholds.pps,
        threshold_bps: inc.thresholds.bps,
        started_at_ms: inc.startedAtMs,
        ended_at_ms: endedAtMs,
      },
    };
  }
}
