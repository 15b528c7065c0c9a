/**
 * Effective thresholds from the server's static threshold, the server's
 * baseline or the detector's own, and the floors (the node's pps floor, else
 * the tuning's):
 *   dynamic = max(dynamicMultiplier x p99, floor)
 *   mode 'dynamic' (default): effective = min(static, dynamic) over those that exist, else the cold value;
 *   mode 'static': effective = static where it is set, else as 'dynamic'.
 * In 'dynamic' either crossing alarms: the static value is the operator's
 * hard limit, the dynamic one catches floods below it on a quiet host.
 */
import { type BaselineState, quantile } from './baseline.ts';
import type { DetectorConfig, DetectorTuning } from './types.ts';

export interface Thresholds {
  pps: number;
  bps: number;
  /** Where the pps value came from, for logs and docs. */
  ppsSource: 'static' | 'server-baseline' | 'own-baseline' | 'cold';
}

export function computeThresholds(cfg: DetectorConfig, tuning: DetectorTuning, own: BaselineState): Thresholds {
  const ownWarm = own.seconds >= tuning.baselineWarmupSeconds;
  const server = cfg.serverBaseline;
  const serverP99 = server && server.p99_pps > 0 ? server.p99_pps : null;

  let dynPps: number | null = null;
  let dynSource: Thresholds['ppsSource'] = 'cold';
  const floorPps = positive(cfg.floorPps) ?? tuning.floorPps;
  if (serverP99 !== null) {
    dynPps = Math.max(tuning.dynamicMultiplier * serverP99, floorPps);
    dynSource = 'server-baseline';
  } else if (ownWarm) {
    dynPps = Math.max(tuning.dynamicMultiplier * quantile(own.pps, 0.99), floorPps);
    dynSource = 'own-baseline';
  }
  // The server's baseline has no bits; ours has them once warm.
  const dynBps = ownWarm ? Math.max(tuning.dynamicMultiplier * quantile(own.bps, 0.99), tuning.floorBps) : null;

  const staticPps = positive(cfg.ppsThreshold);
  const staticBps = positive(cfg.bpsThreshold);
  const only = cfg.mode === 'static';
  const pps = only && staticPps !== null ? staticPps : pick(staticPps, dynPps, tuning.coldPps);
  const bps = only && staticBps !== null ? staticBps : pick(staticBps, dynBps, tuning.coldBps);
  let ppsSource: Thresholds['ppsSource'] = dynSource;
  if (staticPps !== null && (only || dynPps === null || staticPps <= dynPps)) ppsSource = 'static';
  return { pps, bps, ppsSource };
}

function positive(v: number | null | undefined): number | null {
  return typeof v === 'number' && Number.isFinite(v) && v > 0 ? v : null;
}

function pick(a: number | null, b: number | null, cold: number): number {
  if (a !== null && b !== null) return Math.min(a, b);
  return a ?? b ?? cold;
}
