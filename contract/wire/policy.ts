/**
 * Response policies (extension, user API /api/v1/policies): what the server
 * does by itself when an agent reports an incident. A policy has conditions
 * (families, a minimum severity, a minimum peak pps or bps, which nodes),
 * one action, and its bounds: the TTL of the rules it makes, a cooldown per
 * node, a limit of rules per incident, and the grace after the incident
 * resolves before its rules are withdrawn. `dry_run` makes log-only rules
 * instead (the kernel counts what they match and drops nothing) and records
 * them on the incident's timeline. Actions are a tagged union so that the BGP (FlowSpec, RTBH) and notification actions of
 * later issues join it without a new shape.
 */
import { z } from 'zod';
import { DEFAULT_POLICY } from '../commands/policy.ts';
import { ATTACK_FAMILIES, SEVERITIES } from '../enums.ts';
import { MAX_BPS, MAX_PPS } from '../limits.ts';
import { PROTOCOLS } from '../rule.ts';
import { id, text } from './primitives.ts';

const seconds = (max: number) => z.number().int().min(0).max(max);

export const policyConditions = z
  .object({
    /** Any of these families; absent: any family. */
    families: z.array(z.enum(ATTACK_FAMILIES)).min(1).max(ATTACK_FAMILIES.length).optional(),
    min_severity: z.enum(SEVERITIES).optional(),
    min_pps: z.number().int().min(0).max(MAX_PPS).optional(),
    min_bps: z.number().int().min(0).max(MAX_BPS).optional(),
    /** Only incidents of these nodes; absent: every node of the workspace. */
    node_ids: z.array(id).min(1).max(1000).optional(),
  })
  .strict();

export const policyAction = z.discriminatedUnion('type', [
  z
    .object({
      /**
       * A drop rule for each of the incident's heaviest sources (top_src_ips),
       * leaving out those the agent marked normal; not for spoofed floods,
       * whose sources are forged.
       */
      type: z.literal('drop_top_sources'),
      /** Only that protocol from those sources; absent: everything from them. */
      protocol: z.enum(PROTOCOLS).optional(),
      /** Sources under this share of the incident's top-source packets are left alone (percent). */
      min_share_pct: z.number().min(0).max(100).default(0.5),
    })
    .strict(),
  z
    .object({
      /**
       * A drop rule for each covering prefix of the incident's top sources
       * (those the agent marked normal left out) that holds at least
       * min_sources of them: a spoofed flood from a concentrated range, the
       * reflectors of one subnet. Spoofed or not.
       */
      type: z.literal('drop_source_prefixes'),
      /** Lengths of the covering prefixes; no broader than an agent with default settings accepts. */
      prefix_length_v4: z.number().int().min(DEFAULT_POLICY.minPrefixV4).max(32).default(24),
      prefix_length_v6: z.number().int().min(DEFAULT_POLICY.minPrefixV6).max(128).default(48),
      /** A prefix is dropped when it holds at least this many of the top sources (at most 32 are reported). */
      min_sources: z.number().int().min(2).max(32).default(4),
      protocol: z.enum(PROTOCOLS).optional(),
      /** Only the incident's dominant destination port (one carrying 80% of top_dst_ports); needs protocol tcp or udp. */
      dominant_port: z.boolean().default(false),
    })
    .strict()
    .refine((a) => !a.dominant_port || a.protocol === 'tcp' || a.protocol === 'udp', {
      message: 'dominant_port needs protocol tcp or udp',
      path: ['dominant_port'],
    }),
]);

/** Where the rules go: the node that was hit, or every node of the workspace (a botnet's sources seen on one host dropped on all). */
export const POLICY_SCOPES = ['node', 'workspace'] as const;

const fields = {
  name: text(200).refine((s) => s.trim() !== '', 'must not be empty'),
  enabled: z.boolean(),
  conditions: policyConditions,
  action: policyAction,
  scope: z.enum(POLICY_SCOPES),
  dry_run: z.boolean(),
  ttl_seconds: z.number().int().min(1).max(86_400),
  cooldown_seconds: seconds(86_400),
  max_rules: z.number().int().min(1).max(256),
  withdraw_grace_seconds: seconds(86_400),
};

/** POST /api/v1/policies: name and action required, the rest defaults. */
export const newPolicy = z
  .object({
    ...fields,
    enabled: fields.enabled.default(true),
    conditions: fields.conditions.default({}),
    scope: fields.scope.default('node'),
    dry_run: fields.dry_run.default(false),
    ttl_seconds: fields.ttl_seconds.default(600),
    cooldown_seconds: fields.cooldown_seconds.default(300),
    max_rules: fields.max_rules.default(32),
    withdraw_grace_seconds: fields.withdraw_grace_seconds.default(120),
  })
  .strict();

/** PATCH /api/v1/policies/:id: any field, at least one. */
export const patchPolicy = z
  .object(fields)
  .partial()
  .strict()
  .refine((p) => Object.keys(p).length > 0, 'give at least one field');

export type NewPolicy = z.output<typeof newPolicy>;
export type PatchPolicy = z.output<typeof patchPolicy>;
export type PolicyConditions = z.output<typeof policyConditions>;
export type PolicyAction = z.output<typeof policyAction>;
