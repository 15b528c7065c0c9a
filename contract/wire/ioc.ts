/**
 * Indicators of compromise: the patterns a workspace gives its agents
 * (GET /config `ioc_patterns`, PATCH /workspace), and what an incident
 * reports of them (POST /incident `ioc_matches`). A pattern is bytes (hex)
 * or text, looked for in a sampled packet's L4 payload at an offset or
 * anywhere, optionally only for one protocol and port (source or
 * destination); built-in signatures of the agent report in the same shape.
 */
import { z } from 'zod';
import { ATTACK_FAMILIES } from '../enums.ts';
import { PROTOCOLS } from '../rule.ts';
import { count, text } from './primitives.ts';

/** Longest pattern, bytes: a sampled packet head holds 128 bytes (BW_SAMPLE_BYTES). */
export const MAX_PATTERN_BYTES = 96;

export const iocPattern = z
  .object({
    /** What the pattern means, reported with each match (SPEC: `attack_name`). */
    attack_name: text(200).refine((s) => s.trim() !== '', 'must not be empty'),
    attack_family: z.enum(ATTACK_FAMILIES),
    /** The bytes, as hex ("17000003" ...) or as text; exactly one of the two. */
    hex: z
      .string()
      .regex(/^(?:[0-9a-fA-F]{2})+$/, 'expected an even number of hex digits')
      .max(2 * MAX_PATTERN_BYTES)
      .optional(),
    text: text(MAX_PATTERN_BYTES).optional(),
    /** Where in the L4 payload the bytes start; absent: anywhere in it. */
    offset: z.number().int().min(0).max(127).optional(),
    protocol: z.enum(PROTOCOLS).optional(),
    /** Source or destination port; needs protocol tcp or udp. */
    port: z.number().int().min(1).max(65_535).optional(),
    /** The pattern names a botnet's tool: a match sets botnet_detected. */
    botnet: z.boolean().optional(),
  })
  .refine((p) => (p.hex === undefined) !== (p.text === undefined), { message: 'give exactly one of hex and text', path: ['hex'] })
  .refine((p) => p.port === undefined || p.protocol === 'tcp' || p.protocol === 'udp', {
    message: 'a port needs protocol tcp or udp',
    path: ['port'],
  });

/** One matched pattern of an incident (extension shape of SPEC's `ioc_matches` entries). */
export const iocMatch = z.object({
  attack_name: text(200),
  attack_family: z.enum(ATTACK_FAMILIES),
  /** Sampled packets that matched (each stands for the sampling period's packets; see `sampled_packets`). */
  count,
  /** 'builtin': one of the agent's signatures (docs/signatures.md); 'workspace': one of ioc_patterns. */
  source: z.enum(['builtin', 'workspace']),
  /** The botnet or tool the signature names, if any. */
  botnet: text(100).optional(),
});

export type IocPattern = z.input<typeof iocPattern>;
export type IocMatch = z.input<typeof iocMatch>;
