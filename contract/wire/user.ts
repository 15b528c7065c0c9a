/**
 * The user API (/api/v1, a workspace token) as schemas: the bodies and
 * query strings people, scripts and the console send. Path ids and query
 * numbers are decimal text; query values are single (a repeated key is
 * refused). Types are inferred from the schemas.
 */
import { z } from 'zod';
import { ATTACK_FAMILIES, INCIDENT_STATUSES, RULE_STATES, SEVERITIES } from '../enums.ts';
import { MAX_IOC_PATTERNS } from '../limits.ts';
import { PROTOCOLS } from '../rule.ts';
import { iocPattern } from './ioc.ts';
import { address, id, idText, intText, text, timestamp } from './primitives.ts';

const threshold = z.number().int().positive().max(Number.MAX_SAFE_INTEGER);
const name = text(200).refine((s) => s.trim().length > 0, 'must not be empty');
/** A query value: one string (a key given twice is an array, refused). */
const q = <T extends z.ZodType>(schema: T) =>
  z.string({ error: 'expected a single value' }).pipe(schema as unknown as z.ZodType<z.output<T>, string>);

/** Path parameters /:id. */
export const idParam = z.object({ id: idText });
/** GET /pcaps/:id takes the numeric id or the UUID. */
export const pcapParam = z.object({
  id: z.union(
    [
      idText,
      z
        .string()
        .regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i)
        .transform((s) => s.toLowerCase()),
    ],
    { error: 'expected a pcap id or uuid' },
  ),
});

export const newNode = z.object({
  name,
  ip: address.optional(),
  pps_threshold: threshold.nullable().optional(),
});
/**
 * PUT /nodes/:id/threshold. pps_threshold as SPEC's (null: the workspace's);
 * extensions, each left as it is when absent and the workspace's when null:
 * mode ('static': the values given are the thresholds; 'dynamic': the
 * baseline's, capped by them), bps_threshold, floor_pps (the dynamic pps
 * threshold's floor). The formula: docs/detection.md.
 */
export const THRESHOLD_MODES = ['static', 'dynamic'] as const;
export const setThreshold = z
  .object({
    pps_threshold: threshold.nullable(),
    mode: z.enum(THRESHOLD_MODES).nullable().optional(),
    bps_threshold: threshold.nullable().optional(),
    floor_pps: threshold.nullable().optional(),
  })
  .strict();
/** PUT /nodes/:id/kill-switch and PUT /workspace/kill-switch: on stops all dropping at once (counting goes on). */
export const setKillSwitch = z.object({ on: z.boolean() }).strict();
/** PUT /nodes/:id/auto-mitigation: the agent's local auto-mitigation on, off, or (null) as its own setting says. */
export const setAutoMitigation = z.object({ on: z.boolean().nullable() }).strict();
export const patchWorkspace = z.object({
  name: name.optional(),
  default_pps_threshold: threshold.optional(),
  default_threshold_mode: z.enum(THRESHOLD_MODES).optional(),
  default_bps_threshold: threshold.nullable().optional(),
  default_floor_pps: threshold.nullable().optional(),
  ioc_patterns: z.array(iocPattern).max(MAX_IOC_PATTERNS).optional(),
});
export const newToken = z.object({ name: text(200).optional() });
/** Bodies of routes that take none (a body sent anyway may only be empty or {}). */
export const empty = z.object({}).strict();

export const incidentQuery = z.object({
  node_id: q(idText).optional(),
  status: q(z.enum(INCIDENT_STATUSES)).optional(),
  severity: q(z.enum(SEVERITIES)).optional(),
  attack_family: q(z.enum(ATTACK_FAMILIES)).optional(),
  since: q(timestamp).optional(),
  until: q(timestamp).optional(),
  before: q(idText).optional(),
  limit: q(intText(1, 500)).default(50),
});

/** POST /mitigations: a drop rule for one node (node_id) or every node of the workspace; then contract/commands checkRuleRequest. */
export const newRule = z.object({
  node_id: id.optional(),
  source: text(64),
  protocol: z.enum(PROTOCOLS).optional(),
  /** Ranges are the policy's (checkRuleRequest), so the refusal is the agent's. */
  port: z.number().optional(),
  ttl_seconds: z.number(),
  reason: text(500).optional(),
  /** Extension: 'log' makes a log-only rule (counted, nothing dropped); default 'drop'. */
  mode: z.enum(['drop', 'log']).optional(),
});
export const ruleQuery = z.object({
  state: q(z.enum(RULE_STATES)).optional(),
  before: q(idText).optional(),
  limit: q(intText(1, 500)).default(50),
});
export const seriesQuery = z.object({
  from: q(timestamp).optional(),
  to: q(timestamp).optional(),
  resolution: q(z.enum(['raw', 'minute'])).default('raw'),
  limit: q(intText(1, 10_000)).default(3600),
});

export type NewNode = z.output<typeof newNode>;
export type NewRule = z.output<typeof newRule>;
export type SetThreshold = z.output<typeof setThreshold>;
export type IncidentQuery = z.output<typeof incidentQuery>;
export type RuleQuery = z.output<typeof ruleQuery>;
export type SeriesQuery = z.output<typeof seriesQuery>;
