// How long a drop rule takes from the user API to the kernel: POST
// /api/v1/mitigations, and from the moment it returns, the victim's pinned
// rule map read every millisecond until the rule is there (the XDP program
// looks it up for every packet: from then on the source is dropped). Used
// by the push tests and bench:push.
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
  const [addr, len] = source.split('/');
  const there = () => run.kernel.listRules().some((k) => k.address === addr && k.prefixLen === Number(len ?? 32) && k.mode === 'drop');
  const seen = await until(() => there() && performance.now(), o.waitMs ?? 15_000, 1);
  return { ruleId: made.body.id, ms: seen === undefined ? undefined : seen - at };
}
