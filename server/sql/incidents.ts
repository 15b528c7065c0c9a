// Incidents and their timeline. A node has at most one open incident (a
// partial unique index): a report while one is open updates it.
import type { z } from 'zod';
import type { incidentReport } from '../../contract/wire/agent.ts';
import type { Queryable } from '../db.ts';
import { incidentPcaps } from './pcaps.ts';

/** A report as the contract's schema gives it (contract/wire/agent.ts incidentReport), without its incident_id. */
export type IncidentReport = Omit<z.output<typeof incidentReport>, 'incident_id'>;

/** Report fields kept in `details` (jsonb): SPEC's breakdowns and lists, and the extensions. */
const detailKeys = [
  'protocol_breakdown',
  'tcp_flag_breakdown',
  'geo_breakdown',
  'top_src_ips',
  'top_dst_ports',
  'ioc_matches',
  'attack_subtype',
  'vectors',
  'length_histogram',
  'ttl_histogram',
  'fragments',
  'malformed',
  'dropped',
  'geo_spoofed',
  'sampled_packets',
] as const;
const details = (r: IncidentReport) =>
  JSON.stringify(Object.fromEntries(detailKeys.filter((k) => r[k] !== undefined).map((k) => [k, r[k]])));

const cols = `i.id, i.node_id, n.uuid AS node_uuid, i.status, i.attack_family, i.severity, i.peak_pps, i.peak_bps,
  i.source_ip_count, i.spoofing_detected, i.botnet_detected, i.details, i.opened_at, i.updated_at, i.resolved_at`;

/** Opens an incident, or updates the node's open one (or the one named). Call inside a transaction. */
export async function report(
  client: Queryable,
  nodeId: number,
  r: IncidentReport,
  incidentId?: number,
): Promise<{ id: number; opened: boolean } | null> {
  const found = await client.query<{ id: number; status: string }>(
    incidentId === undefined
      ? `SELECT id, status FROM incidents WHERE node_id = $1 AND status = 'open' FOR UPDATE`
      : `SELECT id, status FROM incidents WHERE node_id = $1 AND id = $2 FOR UPDATE`,
    incidentId === undefined ? [nodeId] : [nodeId, incidentId],
  );
  const row = found.rows[0];
  const params = [
    r.attack_family,
    r.severity,
    r.peak_pps ?? null,
    r.peak_bps ?? null,
    r.source_ip_count ?? null,
    r.spoofing_detected ?? null,
    r.botnet_detected ?? null,
    details(r),
  ];
  if (!row) {
    if (incidentId !== undefined) return null;
    const { rows } = await client.query<{ id: number }>(
      `INSERT INTO incidents (node_id, attack_family, severity, peak_pps, peak_bps, source_ip_count,
         spoofing_detected, botnet_detected, details)
       VALUES ($9, $1, $2, $3, $4, $5, $6, $7, $8::jsonb)
       ON CONFLICT (node_id) WHERE status = 'open' DO NOTHING RETURNING id`,
      [...params, nodeId],
    );
    // Another report of this node opened its incident meanwhile (the one-open
    // index made this insert wait for it): update that one instead.
    if (!rows[0]) return report(client, nodeId, r);
    const id = rows[0].id;
    await addEvent(client, id, 'opened', { attack_family: r.attack_family, severity: r.severity, peak_pps: r.peak_pps ?? null });
    return { id, opened: true };
  }
  if (row.status !== 'open') return { id: row.id, opened: false };
  await client.query(
    `UPDATE incidents SET attack_family = $1, severity = $2,
       peak_pps = greatest(peak_pps, $3), peak_bps = greatest(peak_bps, $4),
       source_ip_count = coalesce($5, source_ip_count), spoofing_detected = coalesce($6, spoofing_detected),
       botnet_detected = coalesce($7, botnet_detected), details = details || $8::jsonb, updated_at = now()
     WHERE id = $9`,
    [...params, row.id],
  );
  await addEvent(client, row.id, 'updated', { attack_family: r.attack_family, severity: r.severity, peak_pps: r.peak_pps ?? null });
  return { id: row.id, opened: false };
}

export async function resolve(client: Queryable, nodeId: number, incidentId: number): Promise<'resolved' | 'already' | null> {
  const { rows } = await client.query<{ status: string }>('SELECT status FROM incidents WHERE node_id = $1 AND id = $2 FOR UPDATE', [
    nodeId,
    incidentId,
  ]);
  if (!rows[0]) return null;
  if (rows[0].status === 'resolved') return 'already';
  await client.query(`UPDATE incidents SET status = 'resolved', resolved_at = now(), updated_at = now() WHERE id = $1`, [incidentId]);
  await addEvent(client, incidentId, 'resolved', {});
  return 'resolved';
}

/**
 * Resolves the open incidents of nodes silent for `minutes` (no heartbeat,
 * sample or report since): an agent that died mid-attack would otherwise
 * leave its node "under attack" until its next attack. Returns how many.
 */
export async function resolveSilent(db: Queryable, minutes: number): Promise<number> {
  const { rows } = await db.query<{ n: number }>(
    `WITH silent AS (
       UPDATE incidents i SET status = 'resolved', resolved_at = now(), updated_at = now()
       FROM nodes n
       WHERE i.node_id = n.id AND i.status = 'open'
         AND greatest(n.last_seen_at, i.updated_at, (SELECT l.received_at FROM node_last_sample l WHERE l.node_id = n.id))
             < now() - make_interval(mins => $1)
       RETURNING i.id
     ), ev AS (
       INSERT INTO incident_events (incident_id, kind, data)
       SELECT id, 'resolved', jsonb_build_object('reason', 'node_silent', 'minutes', $1::int) FROM silent
     )
     SELECT count(*)::int AS n FROM silent`,
    [minutes],
  );
  return rows[0]!.n;
}

export async function addEvent(db: Queryable, incidentId: number, kind: string, data: object): Promise<void> {
  await db.query('INSERT INTO incident_events (incident_id, kind, data) VALUES ($1, $2, $3::jsonb)', [
    incidentId,
    kind,
    JSON.stringify(data),
  ]);
}

export async function incidentStatus(db: Queryable, id: number): Promise<string | undefined> {
  const { rows } = await db.query<{ status: string }>('SELECT status FROM incidents WHERE id = $1', [id]);
  return rows[0]?.status;
}

export async function nodeOwnsIncident(db: Queryable, nodeId: number, incidentId: number): Promise<boolean> {
  const { rowCount } = await db.query('SELECT 1 FROM incidents WHERE node_id = $1 AND id = $2', [nodeId, incidentId]);
  return rowCount === 1;
}

export interface IncidentFilter {
  node_id?: number;
  status?: 'open' | 'resolved';
  severity?: string;
  attack_family?: string;
  since?: Date;
  until?: Date;
  /** Keyset pagination: incidents with an id below this one. */
  before?: number;
  limit: number;
}

export async function list(db: Queryable, workspaceId: number, f: IncidentFilter) {
  const { rows } = await db.query(
    `SELECT ${cols} FROM incidents i JOIN nodes n ON n.id = i.node_id
     WHERE n.workspace_id = $1
       AND ($2::bigint IS NULL OR i.node_id = $2) AND ($3::text IS NULL OR i.status = $3)
       AND ($4::text IS NULL OR i.severity = $4) AND ($5::text IS NULL OR i.attack_family = $5)
       AND ($6::timestamptz IS NULL OR i.opened_at >= $6) AND ($7::timestamptz IS NULL OR i.opened_at < $7)
       AND ($8::bigint IS NULL OR i.id < $8)
     ORDER BY i.id DESC LIMIT $9`,
    [
      workspaceId,
      f.node_id ?? null,
      f.status ?? null,
      f.severity ?? null,
      f.attack_family ?? null,
      f.since ?? null,
      f.until ?? null,
      f.before ?? null,
      f.limit,
    ],
  );
  return rows as { id: number }[];
}

export async function get(db: Queryable, workspaceId: number, id: number) {
  const { rows } = await db.query(
    `SELECT ${cols} FROM incidents i JOIN nodes n ON n.id = i.node_id WHERE n.workspace_id = $1 AND i.id = $2`,
    [workspaceId, id],
  );
  if (!rows[0]) return undefined;
  const events = await db.query('SELECT kind, data, at FROM incident_events WHERE incident_id = $1 ORDER BY id', [id]);
  return { ...rows[0], timeline: events.rows, pcaps: await incidentPcaps(db, id) };
}
