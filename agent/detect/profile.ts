/**
 * The normal traffic profile: an exponentially weighted average of each
 * protocol and TCP-flag rate over non-attack traffic. Classification looks at
 * what an incident adds on top of it (the excess), so a host whose normal
 * traffic is 30% TCP does not turn a UDP flood into a "multi-vector" attack.
 */
import type { TrafficSample } from './types.ts';

export const FEATURES = [
  'tcp',
  'udp',
  'icmp',
  'other',
  'syn',
  'synack',
  'ack',
  'fin',
  'rst',
  'psh',
  'urg',
  'null',
  'xmas',
  'frag',
] as const;
export type Feature = (typeof FEATURES)[number];
export type FeatureRates = Record<Feature, number>;

export function zeroRates(): FeatureRates {
  const r = {} as FeatureRates;
  for (const f of FEATURES) r[f] = 0;
  return r;
}

/** The feature rates (per second) of one sample. */
export function featuresOf(s: TrafficSample): FeatureRates {
  const f = s.tcpFlags;
  return {
    tcp: s.protoPps.tcp,
    udp: s.protoPps.udp,
    icmp: s.protoPps.icmp,
    other: s.protoPps.other,
    syn: f.syn,
    synack: f.synack,
    ack: f.ack,
    fin: f.fin,
    rst: f.rst,
    psh: f.psh,
    urg: f.urg,
    null: f.null,
    xmas: f.xmas,
    frag: s.fragmentsPps,
  };
}

export interface ProfileState {
  version: 1;
  /** Milliseconds of traffic learned. */
  learnedMs: number;
  rates: FeatureRates;
}

export function emptyProfile(): ProfileState {
  return { version: 1, learnedMs: 0, rates: zeroRates() };
}

/** Moves the profile toward `x`, weighting by the interval the rates cover. */
export function learnProfile(p: ProfileState, x: FeatureRates, intervalMs: number, halfLifeMs: number): void {
  // Until one half-life has been learned, average evenly so the first
  // samples do not dominate.
  const alpha = p.learnedMs < halfLifeMs ? intervalMs / (p.learnedMs + intervalMs) : 1 - 0.5 ** (intervalMs / halfLifeMs);
  for (const f of FEATURES) p.rates[f] += alpha * (x[f] - p.rates[f]);
  p.learnedMs += intervalMs;
}

export function parseProfile(raw: unknown): ProfileState | null {
  if (typeof raw !== 'object' || raw === null) return null;
  const r = raw as Record<string, unknown>;
  if (r.version !== 1 || typeof r.learnedMs !== 'number' || !(r.learnedMs >= 0)) return null;
  if (typeof r.rates !== 'object' || r.rates === null) return null;
  const src = r.rates as Record<string, unknown>;
  const rates = zeroRates();
  for (const f of FEATURES) {
    const v = src[f];
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) return null;
    rates[f] = v;
  }
  return { version: 1, learnedMs: r.learnedMs, rates };
}
