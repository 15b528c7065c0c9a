// The lab's response policies (docs/policies.md), as the demo and bench:e2e
// run them: the server drops each incident's heaviest sources by itself, and
// every range that 8 or more of them share at /16, which is what the lab's
// floods from forged sources need (they are drawn from 198.19.0.0/16, and a
// forged address dropped alone drops nobody). A policy never drops a range
// that holds a source seen before the attack (the legitimate client), nor
// what the safety check refuses. An operator sets their own: these are the
// lab's, with no cooldown and no grace so that runs follow each other.
import type { LabRun } from './index.ts';

export const LAB_POLICIES = [
  {
    name: 'drop the top sources',
    action: { type: 'drop_top_sources' },
  },
  {
    name: 'drop the ranges the top sources share',
    action: { type: 'drop_source_prefixes', prefix_length_v4: 16, min_sources: 8 },
  },
] as const;

/** Creates LAB_POLICIES in the lab's workspace, with the TTL given; throws if the server refuses one. */
export async function createLabPolicies(run: LabRun, ttlSeconds = 600): Promise<void> {
  for (const p of LAB_POLICIES) {
    const made = await run.user('POST', '/policies', { ...p, ttl_seconds: ttlSeconds, cooldown_seconds: 0, withdraw_grace_seconds: 0 });
    if (made.status !== 201) throw new Error(`the lab's policy "${p.name}" was refused: ${JSON.stringify(made.body)}`);
  }
}
