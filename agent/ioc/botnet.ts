/**
 * botnet_detected (docs/signatures.md): an indicator that names a botnet
 * matched at least BOTNET_MIN_SAMPLES of the incident's sampled packets, and
 * at least BOTNET_MIN_SHARE of them. The count keeps a stray packet (a
 * scanner, a coincidence of bytes) from naming a botnet; the share keeps a
 * trickle of bot traffic inside another attack from making that attack a
 * botnet's.
 */
import type { Indicator } from './signature.ts';

export const BOTNET_MIN_SAMPLES = 10;
export const BOTNET_MIN_SHARE = 0.1;

export function botnetDetected(counts: ReadonlyMap<Indicator, number>, samples: number): boolean {
  for (const [ind, n] of counts) {
    if (ind.botnet !== undefined && n >= BOTNET_MIN_SAMPLES && n >= BOTNET_MIN_SHARE * samples) return true;
  }
  return false;
}
