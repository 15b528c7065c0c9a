// The samples of a POST /api/v1/agent/metrics body as rows: one sample (SPEC
// section 1), or (extension) a batch, as an array or { "samples": [...] },
// checked by the contract's schema for that form (contract/wire/agent.ts), so
// a refusal names the field as sent ("pps: ...", "1.bps: ...",
// "samples.1.recorded_at: ...").
import type { z } from 'zod';
import { type metricSample, metricsSchema } from '../contract/wire/agent.ts';
import type { Sample } from './sql/metrics.ts';
import { parse } from './validate.ts';

export type SampleInput = z.output<typeof metricSample>;

/** The samples of a /metrics body, or a 400 naming the first fields that are wrong (three at most). */
export function parseSamples(body: unknown): SampleInput[] {
  const v = parse(metricsSchema(body), body);
  return Array.isArray(v) ? v : 'samples' in v ? v.samples : [v];
}

/** Rows for the metrics writer. Without recorded_at, samples of one request get distinct times 1 ms apart from `now` on. */
export function toRows(nodeId: number, list: SampleInput[], now = Date.now()): Sample[] {
  return list.map((s, i) => ({
    node_id: nodeId,
    // From the arrival on: never before it, so never before an incident opened earlier.
    recorded_at: s.recorded_at ?? new Date(now + i),
    pps: s.pps,
    bps: s.bps,
    tcp_pct: s.tcp_pct ?? null,
    udp_pct: s.udp_pct ?? null,
    icmp_pct: s.icmp_pct ?? null,
    conn_count: s.conn_count ?? null,
    fragments_pps: s.fragments_pps ?? null,
    dropped_pps: s.dropped_pps ?? null,
  }));
}
