/**
 * Public surface of the pure detection module. The agent builds a Detector,
 * pushes one TrafficSample per tick and forwards the returned events; it
 * persists exportState() and hands it back to the constructor after a restart.
 */
export { Detector, type DetectorState } from './detector.ts';
export { pickOffenders, SourceMemory, type OffenderOptions, type OffenderPick } from './offenders.ts';
export { judgeSpoofing, plausibleTtl, type SpoofInput, type SpoofVerdict } from './spoofing.ts';
export { severityOf, peakRatio } from './severity.ts';
export { computeThresholds, type Thresholds } from './thresholds.ts';
export { DEFAULT_TUNING } from './tuning.ts';
export { REFLECTION_PORTS, WEB_PORTS } from './classify.ts';
export { windowPacketsOf } from './aggregate.ts';
export type * from './types.ts';
