/**
 * The opening rule over the recent ticks (the "history"): a flood opens an
 * incident when
 *   surge: the newest tick lasts >= surgeMs at >= surgeRatio x threshold, and
 *     an earlier tick is in the history (a restart does not open on its first), or
 *   fast: every tick of the last fastMs is at >= fastRatio x threshold, or
 *   middle: at least midFraction of the last midMs is at >= midRatio x threshold, or
 *   slow: at least confirmFraction of the last confirmMs is at >= confirmRatio x threshold.
 * A window counts only once the history spans it, so a restart or a gap
 * cannot open on a single tick of the windowed paths.
 */
import type { DetectorTuning, TrafficSample } from './types.ts';

export interface Tick {
  sample: TrafficSample;
  /** max(pps / threshold_pps, bps / threshold_bps) */
  ratio: number;
}

/** Time share of the newest `windowMs` of history at >= `ratio`, or null if the history is shorter. */
export function shareAbove(history: readonly Tick[], ratio: number, windowMs: number): number | null {
  let span = 0;
  let above = 0;
  for (let i = history.length - 1; i >= 0 && span < windowMs; i--) {
    const t = history[i];
    if (!t) break;
    const ms = Math.min(t.sample.intervalMs, windowMs - span);
    span += ms;
    if (t.ratio >= ratio) above += ms;
  }
  // Ticks jitter around their nominal length: accept a span 5% short.
  if (span < windowMs * 0.95) return null;
  return above / span;
}

export function shouldOpen(history: readonly Tick[], t: DetectorTuning): boolean {
  const last = history[history.length - 1];
  if (history.length >= 2 && last && last.sample.intervalMs >= t.surgeMs && last.ratio >= t.surgeRatio) return true;
  const fast = shareAbove(history, t.fastRatio, t.fastMs);
  if (fast !== null && fast >= 0.999) return true;
  const mid = shareAbove(history, t.midRatio, t.midMs);
  if (mid !== null && mid >= t.midFraction) return true;
  const slow = shareAbove(history, t.confirmRatio, t.confirmMs);
  return slow !== null && slow >= t.confirmFraction;
}

/** Drops ticks that no window needs any more. */
export function trimHistory(history: Tick[], nowMs: number, t: DetectorTuning): void {
  const keepMs = Math.max(t.fastMs, t.midMs, t.confirmMs) + 1_000;
  while (history.length > 0 && (history[0]?.sample.timestampMs ?? nowMs) < nowMs - keepMs) history.shift();
}
