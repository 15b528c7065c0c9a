/**
 * Public surface of the pure detection module. The agent builds a Detector,
 * pushes one TrafficSample per tick and forwards the returned events; it
 * persists exportState() and hands it back to the constructor after a restart.
 */

export { windowPacketsOf } from './aggregate.ts';
export { REFLECTION_PORTS, WEB_PORTS } from './classify.ts';
export { Detector, type DetectorState } from './detector.ts';
export { type OffenderOptions, type OffenderPick, pickOffenders, SourceMemory } from './offenders.ts';
export { peakRatio, severityOf } from './severity.ts';
export { judgeSpoofing, plausibleTtl, type SpoofInput, type SpoofVerdict } from './spoofing.ts';
export { computeThresholds, type Thresholds } from './thresholds.ts';
export { DEFAULT_TUNING } from './tuning.ts';
export type * from './types.ts';
