/**
 * Extension of SPEC section 1: POST /api/v1/agent/rules, the rules a node's
 * kernel holds as the agent reads them (native listRules), with where each
 * came from and its hit counters, and the program's state (kill switch,
 * attached). The agent sends it when its rules change and every few seconds
 * (docs/agent.md); each report replaces the node's previous one at the
 * server, which compares it with the rules it holds in force for the node
 * (docs/server.md, "What the kernels hold").
 */
import { z } from 'zod';
import { KERNEL_RULE_ORIGINS } from '../enums.ts';
import { MAX_KERNEL_RULES_REPORTED } from '../limits.ts';
import { parsePrefix } from '../net/prefix.ts';
import { matchKey, matchProblem, PROTOCOLS } from '../rule.ts';
import { count, id, text, timestamp } from './primitives.ts';

/** A source prefix as the kernel holds it ("198.18.0.0/15", "2001:db8::1/128"), in canonical text out. */
const source = z
  .string()
  .max(64)
  .transform((s, ctx) => {
    const p = parsePrefix(s);
    if (!p.ok) {
      ctx.addIssue({ code: 'custom', message: p.reason });
      return z.NEVER;
    }
    return p.prefix;
  });

export const kernelRule = z
  .object({
    source,
    protocol: z.enum(PROTOCOLS).optional(),
    /** Destination port 1-65535 (tcp, udp). */
    port: z.number().int().min(1).max(65_535).optional(),
    /** ICMP (ICMPv6) type 0-255 (icmp). */
    icmp_type: z.number().int().min(0).max(255).optional(),
    mode: z.enum(['drop', 'log']),
    /** When the kernel stops applying it; null: never. */
    expires_at: timestamp.nullable(),
    origin: z.enum(KERNEL_RULE_ORIGINS),
    /** The server's mitigation rule, for a rule a command put there (the command's rule.rule_id). */
    rule_id: id.optional(),
    packets: count,
    bytes: count,
  })
  .superRefine((r, ctx) => {
    const problem = matchProblem({ source: r.source, protocol: r.protocol, port: r.port, icmpType: r.icmp_type });
    if (problem) ctx.addIssue({ code: 'custom', message: problem, path: [r.icmp_type !== undefined ? 'icmp_type' : 'port'] });
  });

export const kernelRulesReport = z.object({
  rules: z
    .array(kernelRule)
    .max(MAX_KERNEL_RULES_REPORTED, `at most ${MAX_KERNEL_RULES_REPORTED} rules in one report (send the first and say truncated)`)
    .superRefine((rules, ctx) => {
      // The kernel holds one rule per match.
      const seen = new Map<string, number>();
      for (const [i, r] of rules.entries()) {
        const key = matchKey({ source: r.source, protocol: r.protocol, port: r.port, icmpType: r.icmp_type });
        const first = seen.get(key);
        if (first !== undefined) return ctx.addIssue({ code: 'custom', path: [i, 'source'], message: `the same match as rules.${first}` });
        seen.set(key, i);
      }
    }),
  /** More rules are in the kernel than the report carries: what is absent says nothing. */
  truncated: z.boolean().optional(),
  /** The kernel's kill switch: nothing is dropped, everything counted. */
  kill_switch: z.boolean(),
  /** The XDP program is attached to the agent's interface (its link pinned and held). */
  attached: z.boolean(),
  /** 'native', 'generic', 'unknown'. */
  xdp_mode: text(32).optional(),
});

export const kernelRulesReply = z.object({
  ok: z.literal(true),
  stored: count,
  /** Commands issued again for rules in force at the server that the kernel lacks. */
  reissued: count,
  /** Remove commands issued again for withdrawn rules the kernel still holds. */
  removed: count,
});

export type KernelRule = z.input<typeof kernelRule>;
export type KernelRulesReport = z.input<typeof kernelRulesReport>;
export type KernelRulesReply = z.output<typeof kernelRulesReply>;
