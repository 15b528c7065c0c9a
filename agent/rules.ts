/**
 * Pending commands to XDP rules, and nothing else: each command is parsed by
 * the strict grammar (agent/commands), checked against the policy TTL, the
 * safety list (server, host, gateway, allowlist) and the rule-count limit,
 * then put into or removed from the kernel's rule table. The outcome of each
 * is an acknowledgement: applied, or failed with the reason. No process is
 * ever started.
 */
import { checkSafety, parseCommand, type CommandPolicy, type ProtectedEntry, type Rule } from './commands/index.ts';
import type { RuleSpec } from '../native/index.ts';

/** One entry of GET /config pending_commands (the `rule` part is the server's extension). */
export interface PendingCommand {
  id: number;
  command: unknown;
  rule?: { ttl?: unknown; op?: unknown } | null;
}

export interface RuleTable {
  addRule(spec: RuleSpec): void;
  deleteRule(spec: RuleSpec): boolean;
  readonly ruleCount: number;
  listRules(): { address: string; prefixLen: number; protocol: number; port: number; icmpType?: number }[];
}

export type Outcome = { id: number; status: 'applied'; rule: RuleSpec | null } | { id: number; status: 'failed'; reason: string };

export interface ApplyContext {
  policy: CommandPolicy;
  protect: readonly ProtectedEntry[];
  maxRules: number;
  table: RuleTable;
}

export function specOf(rule: Rule): RuleSpec {
  return {
    source: rule.prefix.cidr,
    ...(rule.protocol ? { protocol: rule.protocol } : {}),
    ...(rule.port ? { port: rule.port } : {}),
    ...(rule.op === 'add' ? { ttlSeconds: rule.ttlSeconds } : {}),
  };
}

const PROTO: Record<string, number[]> = { tcp: [6], udp: [17], icmp: [1, 58] };

function exists(table: RuleTable, s: RuleSpec): boolean {
  const [addr, len] = s.source.split('/');
  const protos = s.protocol ? PROTO[s.protocol]! : [0];
  return table.listRules().some((r) => r.address === addr && String(r.prefixLen) === len && protos.includes(r.protocol) &&
    r.port === (s.port ?? 0) && r.icmpType === s.icmpType);
}

/**
 * The TTL: the time left that the server's structured form gives (it knows
 * when the rule expires), else the parser's (policy default for the
 * iptables form). Above the policy maximum it is refused, never clamped.
 */
function ttlFor(cmd: PendingCommand, rule: Rule, policy: CommandPolicy): { ok: true; ttl: number } | { ok: false; reason: string } {
  const given = cmd.rule?.ttl;
  if (typeof given !== 'number') return { ok: true, ttl: rule.ttlSeconds };
  if (!Number.isInteger(given) || given < 1) return { ok: false, reason: 'the rule ttl must be a positive integer' };
  if (given > policy.maxTtlSeconds) return { ok: false, reason: `ttl ${given} s exceeds the maximum of ${policy.maxTtlSeconds} s` };
  return { ok: true, ttl: given };
}

export function applyCommand(cmd: PendingCommand, ctx: ApplyContext): Outcome {
  const fail = (reason: string): Outcome => ({ id: cmd.id, status: 'failed', reason });
  const parsed = parseCommand(cmd.command, ctx.policy);
  if (!parsed.ok) return fail(`refused: ${parsed.reason}`);
  const rule = parsed.rule;
  if (rule.op === 'add') {
    const ttl = ttlFor(cmd, rule, ctx.policy);
    if (!ttl.ok) return fail(`refused: ${ttl.reason}`);
    rule.ttlSeconds = ttl.ttl;
    const safe = checkSafety(rule, ctx.protect);
    if (!safe.ok) return fail(`refused: ${safe.reason}`);
  }
  const spec = specOf(rule);
  try {
    if (rule.op === 'delete') {
      ctx.table.deleteRule(spec);
      return { id: cmd.id, status: 'applied', rule: spec };
    }
    if (ctx.table.ruleCount >= ctx.maxRules && !exists(ctx.table, spec)) {
      return fail(`rule table full: the agent keeps at most ${ctx.maxRules} rules`);
    }
    ctx.table.addRule(spec);
    return { id: cmd.id, status: 'applied', rule: spec };
  } catch (e) {
    return fail(`kernel: ${(e as Error).message}`);
  }
}
