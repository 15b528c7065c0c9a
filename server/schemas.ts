// Request schemas (zod). Field names are the fixed ones of SPEC.md; the
// messages name the field that is wrong.
import { z } from 'zod';
import { MAX_RULE_TTL } from './commands.ts';

const count = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);
const pct = z.number().min(0).max(100);
const timestamp = z.union([
  z.date(),
  z.string().max(40).refine((s) => !Number.isNaN(Date.parse(s)), 'expected an ISO 8601 timestamp'),
]).transform((v) => (v instanceof Date ? v : new Date(v)));

export const heartbeat = z.object({
  agent_version: z.string().max(100).optional(),
  uptime: count.optional(),
  os: z.string().max(200).optional(),
});

// The /metrics body is checked by hand: samples.ts.

export const attackFamilies = ['udp_flood', 'syn_flood', 'http_flood', 'icmp_flood', 'dns_flood', 'multi_vector', 'unknown'] as const;
export const severities = ['low', 'medium', 'high', 'critical'] as const;
const breakdown = z.record(z.string().max(64), z.number()).refine((o) => Object.keys(o).length <= 300, 'at most 300 keys');

export const incident = z.object({
  incident_id: z.number().int().positive().optional(), // extension: update this one
  attack_family: z.enum(attackFamilies),
  severity: z.enum(severities),
  peak_pps: count.optional(),
  peak_bps: count.optional(),
  protocol_breakdown: breakdown.optional(),
  tcp_flag_breakdown: breakdown.optional(),
  geo_breakdown: breakdown.optional(),
  source_ip_count: count.optional(),
  top_src_ips: z.array(z.object({ ip: z.string().max(64), count })).max(1000).optional(),
  top_dst_ports: z.array(z.object({ port: z.number().int().min(0).max(65535), count })).max(1000).optional(),
  ioc_matches: z.array(z.unknown()).max(1000).optional(),
  spoofing_detected: z.boolean().optional(),
  botnet_detected: z.boolean().optional(),
});

export const resolveIncident = z.object({ incident_id: z.number().int().positive() });

export const ack = z.object({
  status: z.enum(['applied', 'failed']),
  reason: z.string().max(1000).optional(),
});

// User API
const id = z.coerce.number().int().positive().max(Number.MAX_SAFE_INTEGER);
const threshold = z.number().int().positive().max(Number.MAX_SAFE_INTEGER);

export const idParam = z.object({ id });
export const newNode = z.object({
  name: z.string().min(1).max(200),
  ip: z.string().max(64).optional(),
  pps_threshold: threshold.nullable().optional(),
});
export const setThreshold = z.object({ pps_threshold: threshold.nullable() });
export const patchWorkspace = z.object({
  name: z.string().min(1).max(200).optional(),
  default_pps_threshold: threshold.optional(),
  ioc_patterns: z.array(z.unknown()).max(10_000).optional(),
});
export const newToken = z.object({ name: z.string().max(200).optional() });

export const incidentQuery = z.object({
  node_id: id.optional(),
  status: z.enum(['open', 'resolved']).optional(),
  severity: z.enum(severities).optional(),
  attack_family: z.enum(attackFamilies).optional(),
  since: timestamp.optional(),
  until: timestamp.optional(),
  before: id.optional(),
  limit: z.coerce.number().int().min(1).max(500).default(50),
});

export const newRule = z.object({
  node_id: z.number().int().positive().optional(), // absent: every node of the workspace
  source: z.string().max(64),
  protocol: z.enum(['tcp', 'udp', 'icmp']).optional(),
  port: z.number().int().min(1).max(65535).optional(),
  ttl_seconds: z.number().int().min(1).max(MAX_RULE_TTL),
  reason: z.string().max(500).optional(),
});
export const ruleQuery = z.object({
  state: z.enum(['pending', 'active', 'failed', 'withdrawn', 'expired']).optional(),
  before: id.optional(),
  limit: z.coerce.number().int().min(1).max(500).default(50),
});
export const seriesQuery = z.object({
  from: timestamp.optional(),
  to: timestamp.optional(),
  resolution: z.enum(['raw', 'minute']).default('raw'),
  limit: z.coerce.number().int().min(1).max(10_000).default(3600),
});
export type IncidentInput = z.infer<typeof incident>;
