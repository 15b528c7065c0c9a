/**
 * Pending commands to XDP rules, and nothing else: each command is parsed by
 * the contract's strict grammar (contract/commands), checked against the
 * policy TTL, the safety list (server, host, gateway, allowlist) and the
 * rule-count limit, then put into or removed from the kernel's rule table.
 * The outcome of each is an acknowledgement: applied, or failed with the
 * reason. No process is ever started.
 */
import { type CommandPolicy, checkSafety, type ProtectedEntry, parseCommand } from '../contract/commands/index.ts';
import type { Rule, RuleMatch } from '../contract/rule.ts';
import type { PendingCommand } from '../contract/wire/agent.ts';

export type { PendingCommand };

/** The part of the addon's rule book the agent uses (native/index.ts Breakwater). */
export interface RuleTable {
  addRule(rule: Rule): void;
  deleteRule(match: RuleMatch): boolean;
  hasRule(match: RuleMatch): boolean;
  readonly ruleCount: number;
}

export type Outcome = { id: number; status: 'applied'; rule: Rule } | { id: number; status: 'failed'; reason: string };

export interface ApplyContext {
  policy: CommandPolicy;
  protect: readonly ProtectedEntry[];
  maxRules: number;
  table: RuleTable;
}

/**
 * The TTL: the time left that the server's structured form gives (it knows
 * when the rule expires), else the parser's (policy default for the
 * iptables form). Above the policy maximum it is refused, never clamped.
 */
function ttlFor(cmd: PendingCommand, parsed: number, policy: CommandPolicy): { ok: true; ttl: number } | { ok: false; reason: string } {
  const given = cmd.rule?.ttl;
  if (typeof given !== 'number') return { ok: true, ttl: parsed };
  if (!Number.isInteger(given) || given < 1) return { ok: false, reason: 'the rule ttl must be a positive integer' };
  if (given > policy.maxTtlSeconds) return { ok: false, reason: `ttl ${given} s exceeds the maximum of ${policy.maxTtlSeconds} s` };
  return { ok: true, ttl: given };
}

export function applyCommand(cmd: PendingCommand, ctx: ApplyContext): Outcome {
  const fail = (reason: string): Outcome => ({ id: cmd.id, status: 'failed', reason });
  const parsed = parseCommand(cmd.command, ctx.policy);
  if (!parsed.ok) return fail(`refused: ${parsed.reason}`);
  const { op, rule } = parsed.command;
  if (op === 'add') {
    const ttl = ttlFor(cmd, rule.ttlSeconds ?? ctx.policy.defaultTtlSeconds, ctx.policy);
    if (!ttl.ok) return fail(`refused: ${ttl.reason}`);
    rule.ttlSeconds = ttl.ttl;
    const safe = checkSafety(parsed.command, ctx.protect);
    if (!safe.ok) return fail(`refused: ${safe.reason}`);
  }
  try {
    if (op === 'delete') {
      ctx.table.deleteRule(rule);
      return { id: cmd.id, status: 'applied', rule };
    }
    if (ctx.table.ruleCount >= ctx.maxRules && !ctx.table.hasRule(rule)) {
      return fail(`rule table full: the agent keeps at most ${ctx.maxRules} rules`);
    }
    ctx.table.addRule(rule);
    return { id: cmd.id, status: 'applied', rule };
  } catch (e) {
    return fail(`kernel: ${(e as Error).message}`);
  }
}
