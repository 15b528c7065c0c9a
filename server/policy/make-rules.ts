// The rules one acting decision of a response policy makes (respond.ts),
// in a fixed number of statements whatever their number: each held to what
// a default agent accepts and to the safety check against the addresses of
// the nodes it reaches (read once), every match checked at once against what
// already holds it, the rest made at once. Before, each rule took five
// statements of its own: in bench:fleet four rules took 34 ms of PGlite, a
// quarter of the way from an incident report to 50 agents' kernels, and the
// lab's HTTP flood gets 32.

import { matchKey } from '../../contract/rule.ts';
import type { Queryable } from '../db.ts';
import { checkRuleAgainst } from '../rule-check.ts';
import { createRules, type NewRule } from '../sql/mitigations.ts';
import { nodeAddresses } from '../sql/nodes.ts';
import { liveRulesOfMatches, type lockIncident } from '../sql/policies.ts';
import type { Decision, Policy } from './decide.ts';

type Acting = Extract<Decision, { act: true }>;
type Locked = NonNullable<Awaited<ReturnType<typeof lockIncident>>>;

/**
 * The rules of one decision, in a fixed number of statements whatever their number: the nodes'
 * addresses read once, every match checked against what holds it at once, the rest made at once.
 */
export async function makeRules(c: Queryable, p: Policy, inc: Locked, d: Acting) {
  const rules: { id: number; source: string; protocol?: string; port?: number; mode: 'drop' | 'log' }[] = [];
  const refused: { source: string; reason: string }[] = [];
  const skipped = [...d.skipped];
  const nodeId = p.scope === 'node' ? inc.node_id : undefined;
  const addresses = await nodeAddresses(c, inc.workspace_id, nodeId ?? null);
  const wanted: { r: Acting['rules'][number]; rule: NewRule['rule'] }[] = [];
  const keys = new Set<string>();
  for (const r of d.rules) {
    const checked = checkRuleAgainst(
      {
        node_id: nodeId,
        source: r.source,
        ...(r.protocol ? { protocol: r.protocol } : {}),
        ...(r.port ? { port: r.port } : {}),
        ttl_seconds: p.ttl_seconds,
        // A dry run makes log-only rules: the kernel counts what the policy would have dropped.
        ...(p.dry_run ? { mode: 'log' as const } : {}),
      },
      addresses,
    );
    if (!checked.ok) refused.push({ source: r.source, reason: `${checked.field}: ${checked.reason}` });
    else if (keys.has(matchKey(checked.rule))) skipped.push({ source: r.source, why: 'the same match is in this decision already' });
    else {
      keys.add(matchKey(checked.rule));
      wanted.push({ r, rule: checked.rule });
    }
  }
  // The kernel holds one rule per match: a second one would replace the first (a log rule
  // turning a drop into a count) and withdrawing either would remove both.
  const held = await liveRulesOfMatches(
    c,
    inc.workspace_id,
    nodeId ?? null,
    wanted.map((w) => w.rule),
    p.dry_run,
  );
  const fresh = wanted.filter((w, i) => {
    if (held[i] === null) return true;
    skipped.push({ source: w.r.source, why: `${held[i]} of the same match is in force` });
    return false;
  });
  const ids = await createRules(
    c,
    inc.workspace_id,
    fresh.map((w) => ({
      node_id: nodeId,
      rule: w.rule,
      reason: `policy "${p.name}" (#${p.id}) for incident #${inc.id} (${d.why}): ${w.r.because}${p.dry_run ? '; dry run: log only' : ''}`,
      policy: { id: p.id, incidentId: inc.id, withdrawAfterSeconds: p.withdraw_grace_seconds },
    })),
  );
  fresh.forEach((w, i) => {
    const id = ids[i];
    if (id == null) return; // its node left the workspace meanwhile
    rules.push({
      id,
      source: w.r.source,
      ...(w.r.protocol ? { protocol: w.r.protocol } : {}),
      ...(w.r.port ? { port: w.r.port } : {}),
      mode: p.dry_run ? 'log' : 'drop',
    });
  });
  return { rules, refused, skipped };
}
