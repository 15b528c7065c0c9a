/**
 * Default detector tuning and the merge of a partial override. Meanings and
 * reasons for each value are in docs/detection.md.
 */
import type { DetectorTuning } from './types.ts';

export const DEFAULT_TUNING: Readonly<DetectorTuning> = Object.freeze({
  /** Dynamic threshold = max(dynamicMultiplier x p99, floor). */
  dynamicMultiplier: 3,
  floorPps: 5_000,
  floorBps: 200_000_000,
  /** Used only while no static threshold and no baseline exist. */
  coldPps: 100_000,
  coldBps: 1_000_000_000,
  /**
   * Surge path: the newest tick, at least surgeMs long, at >= surgeRatio x threshold, after an earlier
   * tick. The agent's surge watch (agent/packets/surge.ts) cuts such a tick out of a flood's first
   * tens of ms, so a flood far over the threshold opens without waiting for whole ticks.
   */
  surgeRatio: 6,
  surgeMs: 20,
  /** Fast path: every tick of the last fastMs at >= fastRatio x threshold. */
  fastRatio: 4,
  fastMs: 200,
  /** Middle path: midFraction of the last midMs at >= midRatio x threshold (a sustained 2x opens in about 0.6-0.7 s). */
  midRatio: 1.4,
  midMs: 700,
  midFraction: 0.85,
  /** Slow path: confirmFraction of the last confirmMs at >= confirmRatio x threshold. */
  confirmRatio: 1,
  confirmMs: 3_000,
  confirmFraction: 0.8,
  /** Resolve after holdMs with every tick under closeRatio x threshold. */
  closeRatio: 0.8,
  holdMs: 10_000,
  /**
   * An open incident is re-sent earlyUpdateMs after it opened (an opening on the surge path holds tens
   * of ms of flood: too little for the spoofing rule's 1,000 packets, which a response policy waits
   * for), then firstUpdateMs after it opened (the sources of its first full second), then every updateMs.
   */
  earlyUpdateMs: 200,
  firstUpdateMs: 1_000,
  /** An open incident is re-sent this often. */
  updateMs: 5_000,
  /** A gap between samples longer than this restarts confirmation. */
  maxGapMs: 2_000,
  /** A vector is significant when it carries this share of the excess packets. */
  vectorShare: 0.25,
  /** An open incident's family changes only when the new one has held on every attack tick this long (family-hold.ts). */
  familyHoldMs: 1_000,
  /** A source seen in calm traffic is remembered as normal only after this much more calm. */
  normalLagMs: 2_000,
  /**
   * Or, once a tick goes over the threshold, when it was seen at least this
   * long before that tick began: it was traffic from before the attack, whose
   * own first, still calm, tick is a tick before (an attack that opens less
   * than normalLagMs after a client first showed must not take the client).
   */
  normalBeforeOnsetMs: 1_000,
  baselineHalfLifeMs: 3_600_000,
  baselineWarmupSeconds: 300,
  profileHalfLifeMs: 300_000,
});

/** Defaults overridden by the finite, positive values of `over`. */
export function resolveTuning(over: Partial<DetectorTuning> | undefined): DetectorTuning {
  const out: DetectorTuning = { ...DEFAULT_TUNING };
  if (!over) return out;
  for (const key of Object.keys(DEFAULT_TUNING) as (keyof DetectorTuning)[]) {
    const v = over[key];
    if (typeof v === 'number' && Number.isFinite(v) && v > 0) out[key] = v;
  }
  return out;
}
