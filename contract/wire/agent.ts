/**
 * The agent API of SPEC.md section 1 (/api/v1/agent) as schemas: every body
 * an agent sends and every reply it reads. Field names are SPEC's; fields
 * marked "extension" are ours. The server validates with these schemas; the
 * agent builds its bodies with their types (type-only imports: zod stays out
 * of the agent). Types are inferred, never written a second time:
 * z.input<> is what goes on the wire, z.output<> what the server works with.
 */
import { z } from 'zod';
import { ACK_STATUSES, ATTACK_FAMILIES, INCIDENT_STATUSES, PCAP_FORMATS, SEVERITIES, VECTOR_SUBTYPES } from '../enums.ts';
import {
  MAX_ACKS_PER_REQUEST,
  MAX_BPS,
  MAX_BREAKDOWN_KEYS,
  MAX_LIST,
  MAX_PPS,
  MAX_SAMPLES_PER_REQUEST,
  RECORDED_AT_FUTURE_MS,
  RECORDED_AT_PAST_MS,
} from '../limits.ts';
import { PROTOCOLS } from '../rule.ts';
import { iocMatch, iocPattern } from './ioc.ts';
import { address, bounded, count, finite, id, idText, pct, text, timestamp } from './primitives.ts';

/** A count of kernel rules: an integer column at the server (the kernel holds 65,536 at most). */
const ruleCount = bounded(2 ** 31 - 1);

/**
 * POST /heartbeat (SPEC). The extensions are the kernel's state as the agent
 * reads it at each heartbeat, named as in the kernel-rules report
 * (contract/wire/kernel-rules.ts); absent from older agents.
 */
export const heartbeat = z.object({
  agent_version: text(100).optional(),
  uptime: count.optional(),
  os: text(200).optional(),
  /** Extension: the kernel's kill switch: nothing is dropped, everything counted. */
  kill_switch: z.boolean().optional(),
  /** Extension: rules in the kernel of mode 'log' (counted, never dropping), expired ones left out. */
  log_only_rules: ruleCount.optional(),
  /** Extension: rules in the kernel, of either mode, expired ones left out. */
  rules_in_kernel: ruleCount.optional(),
});

const minutes = (ms: number) => `${ms / 60_000} minutes`;
/** recorded_at within the window around the server's clock (limits.ts says why). */
const recordedAt = timestamp.superRefine((d, ctx) => {
  const now = Date.now(),
    t = d.getTime();
  if (t > now + RECORDED_AT_FUTURE_MS) {
    ctx.addIssue({
      code: 'custom',
      message: `${d.toISOString()} is more than ${minutes(RECORDED_AT_FUTURE_MS)} ahead of the server's clock (${new Date(now).toISOString()})`,
    });
  } else if (t < now - RECORDED_AT_PAST_MS) {
    ctx.addIssue({
      code: 'custom',
      message: `${d.toISOString()} is more than ${RECORDED_AT_PAST_MS / 86_400_000} days before the server's clock (${new Date(now).toISOString()})`,
    });
  }
});

/** One sample of POST /metrics (SPEC): one second of traffic. */
export const metricSample = z.object({
  pps: bounded(MAX_PPS),
  bps: bounded(MAX_BPS),
  tcp_pct: pct.optional(),
  udp_pct: pct.optional(),
  icmp_pct: pct.optional(),
  conn_count: bounded(2 ** 32).optional(),
  recorded_at: recordedAt.optional(),
  /** Extension: IP fragments a second (first and later). */
  fragments_pps: bounded(MAX_PPS).optional(),
  /** Extension: packets a second dropped by the kernel's rules. */
  dropped_pps: bounded(MAX_PPS).optional(),
});

/** Extension: a batch, as an array of samples or { "samples": [...] }. */
export const metricBatch = z
  .array(metricSample)
  .min(1, 'expected at least one sample')
  .max(MAX_SAMPLES_PER_REQUEST, `at most ${MAX_SAMPLES_PER_REQUEST} samples in one request`);
export const metricEnvelope = z.object({ samples: metricBatch });

/** The schema of a POST /metrics body by its shape, so a refusal names the field of the form sent. */
export function metricsSchema(body: unknown): typeof metricSample | typeof metricBatch | typeof metricEnvelope {
  if (Array.isArray(body)) return metricBatch;
  return body !== null && typeof body === 'object' && 'samples' in body ? metricEnvelope : metricSample;
}

const breakdown = (value: z.ZodType<number>) =>
  z.record(text(64), value).refine((o) => Object.keys(o).length <= MAX_BREAKDOWN_KEYS, `at most ${MAX_BREAKDOWN_KEYS} keys`);
const subtypes = new Set<string>(VECTOR_SUBTYPES);

/** POST /incident (SPEC), opening or updating the node's incident. */
export const incidentReport = z.object({
  /** Extension: update this incident (an agent that knows its id). */
  incident_id: id.optional(),
  attack_family: z.enum(ATTACK_FAMILIES),
  severity: z.enum(SEVERITIES),
  peak_pps: count.optional(),
  peak_bps: count.optional(),
  protocol_breakdown: breakdown(pct).optional(),
  tcp_flag_breakdown: breakdown(count).optional(),
  geo_breakdown: breakdown(count).optional(),
  source_ip_count: count.optional(),
  top_src_ips: z
    .array(
      z.object({
        ip: address,
        count,
        /** Extension: the agent saw this source in normal traffic before the attack: not one to block. */
        normal: z.boolean().optional(),
      }),
    )
    .max(MAX_LIST)
    .optional(),
  top_dst_ports: z
    .array(z.object({ port: z.number().int().min(0).max(65_535), count }))
    .max(MAX_LIST)
    .optional(),
  /** The patterns matched (contract/wire/ioc.ts); an older agent's plain strings are still taken. */
  ioc_matches: z
    .array(z.union([iocMatch, text(200)]))
    .max(MAX_LIST)
    .optional(),
  spoofing_detected: z.boolean().optional(),
  botnet_detected: z.boolean().optional(),
  /** Extension: the classifier's sub-type; a multi_vector incident joins its vectors' with '+'. */
  attack_subtype: text(200)
    .refine((s) => s.split('+').every((x) => subtypes.has(x)), 'expected sub-types joined by "+"')
    .optional(),
  /** Extension: the attack's components, largest first (several make a multi_vector incident). */
  vectors: z
    .array(z.object({ family: z.enum(ATTACK_FAMILIES), subtype: z.enum(VECTOR_SUBTYPES), pps: count }))
    .max(16)
    .optional(),
  /** Extension: packets of the incident by length: 0-64, 65-128, 129-256, 257-512, 513-1024, 1025-1500, >1500. */
  length_histogram: z.array(count).length(7).optional(),
  /** Extension: packets of the incident by received TTL (hop limit), the TTLs seen only ("64": 1200). */
  ttl_histogram: z
    .record(z.string().regex(/^(?:0|[1-9][0-9]?|1[0-9]{2}|2[0-4][0-9]|25[0-5])$/, 'expected a TTL from 0 to 255'), count)
    .optional(),
  /** Extension: IP fragments, packets the kernel could not parse, and packets it dropped, during the incident. */
  fragments: count.optional(),
  malformed: count.optional(),
  dropped: count.optional(),
  /** Extension: the sources are forged (spoofing_detected): geo_breakdown says where they claim to be from. */
  geo_spoofed: z.boolean().optional(),
  /** Extension: packet samples the incident's forensics (ioc_matches, geo_breakdown, the capture) were drawn from. */
  sampled_packets: count.optional(),
});

/** Extension: POST /incident/resolve. */
export const resolveIncident = z.object({ incident_id: id });

/** Extension: POST /commands/:id/ack, the agent's answer to a pending command. */
export const commandAck = z.object({
  status: z.enum(ACK_STATUSES),
  reason: text(1000).optional(),
});

/**
 * Extension: POST /commands/ack, the answers to many commands at once (a
 * batch's, in the order applied); each id once.
 */
export const commandAcks = z.object({
  acks: z
    .array(commandAck.extend({ id }))
    .min(1, 'at least one answer')
    .max(MAX_ACKS_PER_REQUEST, `at most ${MAX_ACKS_PER_REQUEST} answers in one request`)
    .superRefine((acks, ctx) => {
      const seen = new Set<number>();
      acks.forEach((a, i) => {
        if (seen.has(a.id)) ctx.addIssue({ code: 'custom', path: [i, 'id'], message: `command ${a.id} is answered twice` });
        seen.add(a.id);
      });
    }),
});

/** The command id of POST /commands/:id/ack. */
export const commandParam = z.object({ id: idText });

/** POST /pcap (SPEC): the form field besides the file. */
export const pcapFields = z.object({
  incident_id: z
    .string()
    .regex(/^\s*[1-9][0-9]{0,14}\s*$/, 'expected a positive decimal integer')
    .transform(Number),
});

// Replies.

export const okReply = z.object({ ok: z.literal(true), server_time: z.string() });
export const metricsReply = z.object({ ok: z.literal(true), accepted: count });
export const incidentReply = z.object({ incident_id: id, status: z.enum(INCIDENT_STATUSES), created: z.boolean().optional() });
export const ackReply = z.object({ id, status: z.enum(ACK_STATUSES) });
/** What became of each answer: taken ('ok'), not this node's command ('gone'), already answered otherwise ('conflict'). */
export const ACK_RESULTS = ['ok', 'gone', 'conflict'] as const;
export const acksReply = z.object({ acks: z.array(z.object({ id, status: z.enum(ACK_STATUSES), result: z.enum(ACK_RESULTS) })) });
export const pcapReply = z.object({
  pcap_id: id,
  uuid: z.string(),
  format: z.enum(PCAP_FORMATS),
  size: count,
  packets: count,
  sha256: z.string(),
});

/** One entry of GET /config pending_commands (SPEC); `rule` is the extension's structured form. */
export const pendingCommand = z.object({
  id,
  command: z.unknown(),
  rule: z
    .object({
      rule_id: id.optional(),
      op: z.enum(['add', 'remove']).optional(),
      action: z.enum(['drop', 'log']).optional(),
      source: z.string().optional(),
      protocol: z.enum(PROTOCOLS).nullable().optional(),
      port: z.number().int().nullable().optional(),
      /** Seconds left to live. */
      ttl: z.unknown().optional(),
      expires_at: z.union([z.string(), z.date()]).optional(),
    })
    .nullable()
    .optional(),
});

/** GET /config (SPEC). */
export const configReply = z.object({
  node_id: id,
  pps_threshold: count.nullable(),
  baseline: z
    .object({
      mean_pps: finite,
      p95_pps: finite.optional(),
      p99_pps: finite,
      samples: count.optional(),
      computed_at: z.union([z.string(), z.date()]).optional(),
    })
    .nullable(),
  ioc_patterns: z.array(iocPattern),
  pending_commands: z.array(pendingCommand),
  /** Extension: the kill switch (the node's or its workspace's): drop nothing, keep counting. Absent from older servers. */
  kill_switch: z.boolean().optional(),
  /** Extension: local auto-mitigation on or off for this node, over the agent's --auto-mitigate; null or absent: the agent's setting. */
  auto_mitigate: z.boolean().nullable().optional(),
  /** Extensions (the formula: docs/detection.md): 'static' or 'dynamic', the bps threshold, the dynamic pps threshold's floor. */
  threshold_mode: z.enum(['static', 'dynamic']).optional(),
  bps_threshold: count.nullable().optional(),
  floor_pps: count.nullable().optional(),
});

/** Every error reply, of every route. */
export const errorReply = z.object({ error: z.object({ code: z.string(), message: z.string() }) });

export type Heartbeat = z.input<typeof heartbeat>;
export type MetricSample = z.input<typeof metricSample>;
export type IncidentReport = z.input<typeof incidentReport>;
export type IncidentFields = Omit<IncidentReport, 'incident_id'>;
export type CommandAck = z.input<typeof commandAck>;
export type CommandAcks = z.input<typeof commandAcks>;
export type AcksReply = z.output<typeof acksReply>;
export type PendingCommand = z.input<typeof pendingCommand>;
export type ConfigReply = z.input<typeof configReply>;
export type IncidentReply = z.output<typeof incidentReply>;
