// A drop rule asked for by an operator (POST /api/v1/mitigations) or by a
// response policy, held to what an agent with default settings accepts (the
// contract's checkRuleRequest, with its reasons) and to the safety check
// against the addresses of the nodes it would reach; one implementation for
// both, so a policy never makes a rule that every agent then refuses.
import { checkRuleRequest, checkSafety, DEFAULT_POLICY, protectedEntries } from '../contract/commands/index.ts';
import type { NewRule as RuleRequest } from '../contract/wire/user.ts';
import type { Queryable } from './db.ts';
import type { NewRule } from './sql/mitigations.ts';
import { nodeAddresses } from './sql/nodes.ts';

export type Checked = { ok: true; rule: NewRule['rule'] } | { ok: false; field: string; reason: string };

export async function checkRule(db: Queryable, workspaceId: number, v: RuleRequest): Promise<Checked> {
  return checkRuleAgainst(v, await nodeAddresses(db, workspaceId, v.node_id ?? null));
}

/** The same check against the addresses of the nodes the rule would reach, read once for many rules (a policy's). */
export function checkRuleAgainst(v: RuleRequest, nodeAddresses: readonly string[]): Checked {
  const checked = checkRuleRequest(v, DEFAULT_POLICY);
  if (!checked.ok) return { ok: false, field: checked.field, reason: checked.reason };
  const hosts = protectedEntries({ host: nodeAddresses });
  const safe = checkSafety(checked.command, hosts);
  if (!safe.ok) return { ok: false, field: 'source', reason: safe.reason };
  return { ok: true, rule: { ...checked.command.rule, ttlSeconds: checked.command.rule.ttlSeconds ?? v.ttl_seconds } };
}
