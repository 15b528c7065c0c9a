// The body of POST /api/v1/agent/metrics: one sample (SPEC.md section 1), or
// (extension) a batch, as an array of samples or { "samples": [...] }.
// Checked by hand rather than with zod: every agent sends one each second, and
// this check costs a fraction of the schema walk. A failure is a 400 whose
// message starts with the field ("pps: ...", "1.bps: ..." for the second
// sample of a batch, "samples.1.bps: ..." in the wrapped form).
import { validationFailed } from './errors.ts';
import type { Sample } from './sql/metrics.ts';

export const MAX_BATCH = 3600;

export interface SampleInput {
  pps: number;
  bps: number;
  tcp_pct?: number;
  udp_pct?: number;
  icmp_pct?: number;
  conn_count?: number;
  recorded_at?: Date;
}

/** The samples of a /metrics body, or a 400 naming the first fields that are wrong (three at most). */
export function parseSamples(body: unknown): SampleInput[] {
  const problems: string[] = [];
  let list: unknown[];
  let prefix: string;
  if (Array.isArray(body)) {
    [list, prefix] = [body, ''];
  } else if (body !== null && typeof body === 'object' && 'samples' in body) {
    const s = (body as { samples: unknown }).samples;
    if (!Array.isArray(s)) throw validationFailed('samples: expected an array of samples');
    [list, prefix] = [s, 'samples.'];
  } else {
    const one = checkSample(body, '', problems);
    if (!one) throw validationFailed(problems.slice(0, 3).join('; '));
    return [one];
  }
  const where = prefix ? 'samples' : 'body';
  if (list.length === 0) throw validationFailed(`${where}: expected at least one sample`);
  if (list.length > MAX_BATCH) throw validationFailed(`${where}: at most ${MAX_BATCH} samples in one request`);
  const out: SampleInput[] = [];
  for (let i = 0; i < list.length && problems.length < 3; i++) {
    const s = checkSample(list[i], `${prefix}${i}.`, problems);
    if (s) out.push(s);
  }
  if (problems.length > 0) throw validationFailed(problems.slice(0, 3).join('; '));
  return out;
}

/** Rows for the metrics writer. Without recorded_at, samples of one request get distinct times 1 ms apart from `now` on. */
export function toRows(nodeId: number, list: SampleInput[], now = Date.now()): Sample[] {
  return list.map((s, i) => ({
    node_id: nodeId,
    // From the arrival on: never before it, so never before an incident opened earlier.
    recorded_at: s.recorded_at ?? new Date(now + i),
    pps: s.pps, bps: s.bps, tcp_pct: s.tcp_pct ?? null, udp_pct: s.udp_pct ?? null,
    icmp_pct: s.icmp_pct ?? null, conn_count: s.conn_count ?? null,
  }));
}

function checkSample(v: unknown, at: string, problems: string[]): SampleInput | undefined {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) {
    problems.push(`${at ? at.slice(0, -1) : 'body'}: expected a sample object`);
    return undefined;
  }
  const o = v as Record<string, unknown>;
  const before = problems.length;
  const pps = count(o.pps, `${at}pps`, problems, true);
  const bps = count(o.bps, `${at}bps`, problems, true);
  const tcp_pct = pct(o.tcp_pct, `${at}tcp_pct`, problems);
  const udp_pct = pct(o.udp_pct, `${at}udp_pct`, problems);
  const icmp_pct = pct(o.icmp_pct, `${at}icmp_pct`, problems);
  const conn_count = count(o.conn_count, `${at}conn_count`, problems, false);
  const recorded_at = timestamp(o.recorded_at, `${at}recorded_at`, problems);
  if (problems.length > before) return undefined;
  const s: SampleInput = { pps: pps!, bps: bps! };
  if (tcp_pct !== undefined) s.tcp_pct = tcp_pct;
  if (udp_pct !== undefined) s.udp_pct = udp_pct;
  if (icmp_pct !== undefined) s.icmp_pct = icmp_pct;
  if (conn_count !== undefined) s.conn_count = conn_count;
  if (recorded_at !== undefined) s.recorded_at = recorded_at;
  return s;
}

function count(v: unknown, field: string, problems: string[], required: boolean): number | undefined {
  if (v === undefined) {
    if (required) problems.push(`${field}: required`);
    return undefined;
  }
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) {
    problems.push(`${field}: expected a non-negative integer, got ${describe(v)}`);
    return undefined;
  }
  return v;
}

function pct(v: unknown, field: string, problems: string[]): number | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !(v >= 0 && v <= 100)) {
    problems.push(`${field}: expected a percentage from 0 to 100, got ${describe(v)}`);
    return undefined;
  }
  return v;
}

function timestamp(v: unknown, field: string, problems: string[]): Date | undefined {
  if (v === undefined) return undefined;
  // MessagePack may carry a timestamp as such; JSON as an ISO 8601 string.
  const d = v instanceof Date ? v : typeof v === 'string' && v.length <= 40 ? new Date(v) : undefined;
  if (!d || Number.isNaN(d.getTime())) {
    problems.push(`${field}: expected an ISO 8601 timestamp, got ${describe(v)}`);
    return undefined;
  }
  return d;
}

const describe = (v: unknown) =>
  typeof v === 'string' ? JSON.stringify(v.length > 40 ? v.slice(0, 40) + '…' : v) : v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v === 'object' ? 'an object' : String(v);
