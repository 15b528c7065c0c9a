// Per-second samples: batched inserts (one statement for many requests, via
// unnest), the newest sample per node, and reads for the user API.
import type { Queryable } from '../db.ts';

export interface Sample {
  node_id: number;
  recorded_at: Date;
  pps: number;
  bps: number;
  tcp_pct: number | null;
  udp_pct: number | null;
  icmp_pct: number | null;
  conn_count: number | null;
  /** Extensions: fragments and dropped packets a second. */
  fragments_pps: number | null;
  dropped_pps: number | null;
}

const insertSql = `
WITH s AS (
  SELECT t.* FROM unnest($1::bigint[], $2::timestamptz[], $3::bigint[], $4::bigint[],
                         $5::real[], $6::real[], $7::real[], $8::bigint[], $9::bigint[], $10::bigint[])
    AS t(node_id, recorded_at, pps, bps, tcp_pct, udp_pct, icmp_pct, conn_count, fragments_pps, dropped_pps)
  WHERE EXISTS (SELECT 1 FROM nodes n WHERE n.id = t.node_id)
), ins AS (
  INSERT INTO metrics_raw (node_id, recorded_at, pps, bps, tcp_pct, udp_pct, icmp_pct, conn_count, fragments_pps, dropped_pps)
  SELECT * FROM s ON CONFLICT DO NOTHING RETURNING 1
), latest AS (
  SELECT DISTINCT ON (node_id) * FROM s ORDER BY node_id, recorded_at DESC
), up AS (
  INSERT INTO node_last_sample (node_id, received_at, recorded_at, pps, bps, tcp_pct, udp_pct, icmp_pct, conn_count, fragments_pps, dropped_pps)
  SELECT node_id, now(), recorded_at, pps, bps, tcp_pct, udp_pct, icmp_pct, conn_count, fragments_pps, dropped_pps FROM latest
  ON CONFLICT (node_id) DO UPDATE SET received_at = now(),
    recorded_at = CASE WHEN EXCLUDED.recorded_at >= node_last_sample.recorded_at THEN EXCLUDED.recorded_at ELSE node_last_sample.recorded_at END,
    pps = CASE WHEN EXCLUDED.recorded_at >= node_last_sample.recorded_at THEN EXCLUDED.pps ELSE node_last_sample.pps END,
    bps = CASE WHEN EXCLUDED.recorded_at >= node_last_sample.recorded_at THEN EXCLUDED.bps ELSE node_last_sample.bps END,
    tcp_pct = CASE WHEN EXCLUDED.recorded_at >= node_last_sample.recorded_at THEN EXCLUDED.tcp_pct ELSE node_last_sample.tcp_pct END,
    udp_pct = CASE WHEN EXCLUDED.recorded_at >= node_last_sample.recorded_at THEN EXCLUDED.udp_pct ELSE node_last_sample.udp_pct END,
    icmp_pct = CASE WHEN EXCLUDED.recorded_at >= node_last_sample.recorded_at THEN EXCLUDED.icmp_pct ELSE node_last_sample.icmp_pct END,
    conn_count = CASE WHEN EXCLUDED.recorded_at >= node_last_sample.recorded_at THEN EXCLUDED.conn_count ELSE node_last_sample.conn_count END,
    fragments_pps = CASE WHEN EXCLUDED.recorded_at >= node_last_sample.recorded_at THEN EXCLUDED.fragments_pps ELSE node_last_sample.fragments_pps END,
    dropped_pps = CASE WHEN EXCLUDED.recorded_at >= node_last_sample.recorded_at THEN EXCLUDED.dropped_pps ELSE node_last_sample.dropped_pps END
  RETURNING 1
)
SELECT (SELECT count(*) FROM ins)::int AS inserted, (SELECT count(*) FROM up)::int AS nodes`;

/**
 * Inserts many samples in one statement; duplicates (same node and time) are
 * ignored. `prepared`: as a named prepared statement, planned once per
 * connection (planning this statement costs PostgreSQL more than executing it
 * for a few rows). Not on the embedded database, whose one session outlives
 * the pool's connections to it and would keep a stale name.
 */
export async function insertSamples(db: Queryable, samples: Sample[], prepared = false): Promise<number> {
  if (samples.length === 0) return 0;
  const col = <K extends keyof Sample>(k: K) => samples.map((s) => s[k]);
  const values = [
    col('node_id'),
    samples.map((s) => s.recorded_at.toISOString()),
    col('pps'),
    col('bps'),
    col('tcp_pct'),
    col('udp_pct'),
    col('icmp_pct'),
    col('conn_count'),
    col('fragments_pps'),
    col('dropped_pps'),
  ];
  const { rows } = await db.query<{ inserted: number }>(prepared ? { name: 'insert_samples_v2', text: insertSql } : insertSql, values);
  return rows[0]!.inserted;
}

/** The newest sample a node sent, or undefined. */
export async function lastSample(db: Queryable, nodeId: number) {
  const { rows } = await db.query(
    'SELECT recorded_at, pps, bps, tcp_pct, udp_pct, icmp_pct, conn_count, fragments_pps, dropped_pps FROM node_last_sample WHERE node_id = $1',
    [nodeId],
  );
  return rows[0];
}

/** Raw samples (within retention) or per-minute rollups of one node, oldest first. */
export async function nodeSeries(
  db: Queryable,
  nodeId: number,
  opts: { from: Date; to: Date; resolution: 'raw' | 'minute'; limit: number },
) {
  const sql =
    opts.resolution === 'raw'
      ? `SELECT recorded_at AS t, pps, bps, tcp_pct, udp_pct, icmp_pct, conn_count, fragments_pps, dropped_pps FROM metrics_raw
       WHERE node_id = $1 AND recorded_at >= $2 AND recorded_at < $3 ORDER BY recorded_at LIMIT $4`
      : `SELECT minute AS t, samples, pps_avg, pps_max, bps_avg, bps_max, tcp_pct, udp_pct, icmp_pct, conn_avg FROM metrics_minute
       WHERE node_id = $1 AND minute >= $2 AND minute < $3 ORDER BY minute LIMIT $4`;
  const { rows } = await db.query(sql, [nodeId, opts.from, opts.to, opts.limit]);
  return rows;
}
