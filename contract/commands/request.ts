/**
 * A drop rule asked for through the user API (POST /api/v1/mitigations), held
 * to the same policy as the agent's commands (./policy.ts), with the reason
 * naming the field: the server refuses what an agent with the default policy
 * would refuse, and says why in the agent's words.
 */
import { matchProblem, type Protocol } from '../rule.ts';
import { checkedPrefix, checkedTtl } from './policy.ts';
import type { Command, CommandPolicy } from './types.ts';

export interface RuleRequest {
  source: string;
  protocol?: Protocol;
  port?: number;
  ttl_seconds: number;
  /** 'log': a log-only rule (counts, drops nothing); default 'drop'. */
  mode?: 'drop' | 'log';
}

export type RequestResult = { ok: true; command: Command } | { ok: false; field: keyof RuleRequest; reason: string };

export function checkRuleRequest(r: RuleRequest, policy: CommandPolicy): RequestResult {
  const src = checkedPrefix(r.source, null, 'add', policy);
  if (!src.ok) return { ok: false, field: 'source', reason: src.reason };
  const ttl = checkedTtl(r.ttl_seconds, policy);
  if (!ttl.ok) return { ok: false, field: 'ttl_seconds', reason: ttl.reason };
  const rule = {
    source: src.prefix,
    ...(r.protocol !== undefined ? { protocol: r.protocol } : {}),
    ...(r.port !== undefined ? { port: r.port } : {}),
    ttlSeconds: ttl.ttl,
    ...(r.mode === 'log' ? { mode: 'log' as const } : {}),
  };
  const problem = matchProblem(rule);
  if (problem) return { ok: false, field: r.port !== undefined ? 'port' : 'protocol', reason: problem };
  return { ok: true, command: { op: 'add', rule } };
}
