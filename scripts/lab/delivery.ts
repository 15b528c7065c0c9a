// How long a drop rule takes from the user API to the kernel: POST
// /api/v1/mitigations, and from the moment it returns, the victim's pinned
// rule map read every millisecond until the rule is there (the XDP program
// looks it up for every packet: from then on the source is dropped). Used
// by the push tests and bench:push; withdrawTimed the same for a withdrawal;
// countInView reads any agent's map (the fleet's, scripts/lab/fleet.ts).
import type { PinnedView } from '../../native/index.ts';
import type { LabRun } from './index.ts';
import { until } from './wait.ts';

export interface Delivery {
  ruleId: number;
  /** From the POST's answer to the rule in the kernel, ms; undefined if it never came within the wait. */
  ms?: number;
}

export async function deliverRule(run: LabRun, source: string, o: { waitMs?: number; ttlSeconds?: number } = {}): Promise<Delivery> {
  const made = await run.user('POST', '/mitigations', {
    node_id: run.node.id,
    source,
    ttl_seconds: o.ttlSeconds ?? 120,
    reason: 'lab: rule delivery',
  });
  const at = performance.now();
  if (made.status !== 201) throw new Error(`rule refused: ${JSON.stringify(made.body)}`);
  const seen = await until(() => inKernel(run, source, 'drop') && performance.now(), o.waitMs ?? 15_000, 1);
  return { ruleId: made.body.id, ms: seen === undefined ? undefined : seen - at };
}

/** The same for a withdrawal: from POST /mitigations/:id/withdraw answering to the rule gone from the kernel. */
export async function withdrawTimed(run: LabRun, ruleId: number, source: string, waitMs = 15_000): Promise<number | undefined> {
  const res = await run.user('POST', `/mitigations/${ruleId}/withdraw`, {});
  const at = performance.now();
  if (res.status !== 200) throw new Error(`withdrawal refused: ${JSON.stringify(res.body)}`);
  const gone = await until(() => !inKernel(run, source) && performance.now(), waitMs, 1);
  return gone === undefined ? undefined : gone - at;
}

/** A rule for `source` (address or prefix; IPv4) is in the victim's kernel map, in `mode` when given. */
export function inKernel(run: LabRun, source: string, mode?: 'drop' | 'log'): boolean {
  return countInView(run.kernel, [source], mode) === 1;
}

/** How many of `sources` (addresses or prefixes; IPv4) have a rule in the kernel map behind `view` (any agent's: a fleet's), in `mode` when given; one read of the map. */
export function countInView(view: PinnedView, sources: readonly string[], mode?: 'drop' | 'log'): number {
  const rules = view.listRules();
  return sources.filter((source) => {
    const [addr, len] = source.split('/');
    return rules.some((k) => k.address === addr && k.prefixLen === Number(len ?? 32) && (mode === undefined || k.mode === mode));
  }).length;
}
