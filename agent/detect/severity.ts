/**
 * Severity from the peak over the threshold:
 *   ratio = max(peak_pps / threshold_pps, peak_bps / threshold_bps)
 *   low < 2 <= medium < 5 <= high < 20 <= critical
 * A flood at twenty times the threshold saturates most links and hosts.
 */
import type { Severity } from './types.ts';

export const SEVERITY_STEPS: readonly [number, Severity][] = [
  [20, 'critical'],
  [5, 'high'],
  [2, 'medium'],
];

export function peakRatio(peakPps: number, peakBps: number, thrPps: number, thrBps: number): number {
  const a = thrPps > 0 ? peakPps / thrPps : 0;
  const b = thrBps > 0 ? peakBps / thrBps : 0;
  return Math.max(a, b);
}

export function severityOf(ratio: number): Severity {
  for (const [min, sev] of SEVERITY_STEPS) if (ratio >= min) return sev;
  return 'low';
}
