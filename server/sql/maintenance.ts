// Periodic work on samples: per-minute rollups, retention, baselines.
import type { Queryable } from '../db.ts';

/** Transaction-level: true when this transaction may do the round (no other process is doing it). */
export async function tryLockRound(tx: Queryable, key: number): Promise<boolean> {
  const { rows } = await tx.query<{ ok: boolean }>('SELECT pg_try_advisory_xact_lock($1) AS ok', [key]);
  return rows[0]!.ok;
}

/**
 * Rolls raw samples up into metrics_minute for every complete minute of the
 * last `lookbackMinutes` (recomputed, so late samples are counted too).
 */
export async function rollup(db: Queryable, lookbackMinutes: number): Promise<number> {
  const r = await db.query(
    `INSERT INTO metrics_minute (node_id, minute, samples, pps_avg, pps_max, bps_avg, bps_max, tcp_pct, udp_pct, icmp_pct, conn_avg)
     SELECT node_id, date_trunc('minute', recorded_at), count(*), avg(pps), max(pps), avg(bps), max(bps),
            avg(tcp_pct), avg(udp_pct), avg(icmp_pct), avg(conn_count)
     FROM metrics_raw
     WHERE recorded_at >= date_trunc('minute', now()) - make_interval(mins => $1)
       AND recorded_at < date_trunc('minute', now())
     GROUP BY 1, 2
     ON CONFLICT (node_id, minute) DO UPDATE SET samples = EXCLUDED.samples, pps_avg = EXCLUDED.pps_avg,
       pps_max = EXCLUDED.pps_max, bps_avg = EXCLUDED.bps_avg, bps_max = EXCLUDED.bps_max, tcp_pct = EXCLUDED.tcp_pct,
       udp_pct = EXCLUDED.udp_pct, icmp_pct = EXCLUDED.icmp_pct, conn_avg = EXCLUDED.conn_avg`,
    [lookbackMinutes],
  );
  return r.rowCount ?? 0;
}

/** Deletes raw samples and rollups past their retention; returns [raw, rollups] deleted. */
export async function enforceRetention(db: Queryable, rawHours: number, rollupDays: number): Promise<[number, number]> {
  // Raw samples are rolled up before they go: the minutes about to be deleted are rolled up first.
  await db.query(
    `INSERT INTO metrics_minute (node_id, minute, samples, pps_avg, pps_max, bps_avg, bps_max, tcp_pct, udp_pct, icmp_pct, conn_avg)
     SELECT node_id, date_trunc('minute', recorded_at), count(*), avg(pps), max(pps), avg(bps), max(bps),
            avg(tcp_pct), avg(udp_pct), avg(icmp_pct), avg(conn_count)
     FROM metrics_raw WHERE recorded_at < now() - make_interval(hours => $1)
     GROUP BY 1, 2 ON CONFLICT (node_id, minute) DO NOTHING`,
    [rawHours],
  );
  const raw = await db.query('DELETE FROM metrics_raw WHERE recorded_at < now() - make_interval(hours => $1)', [rawHours]);
  const minute = await db.query('DELETE FROM metrics_minute WHERE minute < now() - make_interval(days => $1)', [rollupDays]);
  return [raw.rowCount ?? 0, minute.rowCount ?? 0];
}

/**
 * Recomputes every node's baseline from its raw samples of the last
 * `windowMinutes`, leaving out samples taken during one of its incidents.
 */
export async function recomputeBaselines(db: Queryable, windowMinutes: number): Promise<number> {
  const r = await db.query(
    `INSERT INTO baselines (node_id, mean_pps, p95_pps, p99_pps, samples, computed_at)
     SELECT m.node_id, avg(m.pps), percentile_cont(0.95) WITHIN GROUP (ORDER BY m.pps),
            percentile_cont(0.99) WITHIN GROUP (ORDER BY m.pps), count(*), now()
     FROM metrics_raw m
     WHERE m.recorded_at >= now() - make_interval(mins => $1)
       AND NOT EXISTS (SELECT 1 FROM incidents i WHERE i.node_id = m.node_id
                       AND m.recorded_at >= i.opened_at AND m.recorded_at <= coalesce(i.resolved_at, 'infinity'))
     GROUP BY m.node_id
     ON CONFLICT (node_id) DO UPDATE SET mean_pps = EXCLUDED.mean_pps, p95_pps = EXCLUDED.p95_pps,
       p99_pps = EXCLUDED.p99_pps, samples = EXCLUDED.samples, computed_at = EXCLUDED.computed_at`,
    [windowMinutes],
  );
  return r.rowCount ?? 0;
}

export async function getBaseline(db: Queryable, nodeId: number) {
  return (await getBaselines(db, [nodeId])).get(nodeId);
}

export async function getBaselines(db: Queryable, nodeIds: readonly number[]) {
  const { rows } = await db.query<{
    node_id: number;
    mean_pps: number;
    p95_pps: number;
    p99_pps: number;
    samples: number;
    computed_at: Date;
  }>('SELECT node_id, mean_pps, p95_pps, p99_pps, samples, computed_at FROM baselines WHERE node_id = ANY($1::bigint[])', [nodeIds]);
  return new Map(rows.map(({ node_id, ...b }) => [node_id, b]));
}
