// Response policies (contract/wire/policy.ts): their rows, what the engine
// reads of an incident, what a policy did before (its firings), and the
// rules due for withdrawal after their incident resolved.
import type { NewPolicy, PatchPolicy } from '../../contract/wire/policy.ts';
import type { Queryable, Row } from '../db.ts';
import type { History, IncidentView, Policy } from '../policy/decide.ts';

const cols = `id, workspace_id, name, enabled, conditions, action, scope, dry_run, ttl_seconds, cooldown_seconds,
  max_rules, withdraw_grace_seconds, created_at, updated_at`;
const FIELDS = [
  'name',
  'enabled',
  'conditions',
  'action',
  'scope',
  'dry_run',
  'ttl_seconds',
  'cooldown_seconds',
  'max_rules',
  'withdraw_grace_seconds',
] as const;
const JSON_FIELDS = new Set(['conditions', 'action']);

export async function createPolicy(db: Queryable, workspaceId: number, p: NewPolicy): Promise<Row> {
  const values = FIELDS.map((f) => (JSON_FIELDS.has(f) ? JSON.stringify(p[f]) : p[f]));
  const { rows } = await db.query(
    `INSERT INTO response_policies (workspace_id, ${FIELDS.join(', ')})
     VALUES ($1, ${FIELDS.map((f, i) => `$${i + 2}${JSON_FIELDS.has(f) ? '::jsonb' : ''}`).join(', ')}) RETURNING ${cols}`,
    [workspaceId, ...values],
  );
  return rows[0]!;
}

export async function updatePolicy(db: Queryable, workspaceId: number, id: number, p: PatchPolicy): Promise<Row | undefined> {
  const given = FIELDS.filter((f) => p[f] !== undefined);
  const sets = given.map((f, i) => `${f} = $${i + 3}${JSON_FIELDS.has(f) ? '::jsonb' : ''}`);
  const { rows } = await db.query(
    `UPDATE response_policies SET ${[...sets, 'updated_at = now()'].join(', ')} WHERE workspace_id = $1 AND id = $2 RETURNING ${cols}`,
    [workspaceId, id, ...given.map((f) => (JSON_FIELDS.has(f) ? JSON.stringify(p[f]) : p[f]))],
  );
  return rows[0];
}

export async function listPolicies(db: Queryable, workspaceId: number, onlyEnabled = false): Promise<Row[]> {
  const { rows } = await db.query(`SELECT ${cols} FROM response_policies WHERE workspace_id = $1 AND ($2 = false OR enabled) ORDER BY id`, [
    workspaceId,
    onlyEnabled,
  ]);
  return rows;
}

export async function getPolicy(db: Queryable, workspaceId: number, id: number): Promise<Row | undefined> {
  const { rows } = await db.query(`SELECT ${cols} FROM response_policies WHERE workspace_id = $1 AND id = $2`, [workspaceId, id]);
  return rows[0];
}

export async function deletePolicy(db: Queryable, workspaceId: number, id: number): Promise<boolean> {
  const { rowCount } = await db.query('DELETE FROM response_policies WHERE workspace_id = $1 AND id = $2', [workspaceId, id]);
  return rowCount === 1;
}

/** The incident as the engine reads it, locked for the rest of the transaction (reports of one incident are judged one at a time). */
export async function lockIncident(db: Queryable, id: number): Promise<(IncidentView & { workspace_id: number }) | undefined> {
  const { rows } = await db.query<IncidentView & { workspace_id: number }>(
    `SELECT i.id, i.node_id, n.workspace_id, i.status, i.attack_family, i.severity, i.peak_pps, i.peak_bps, i.spoofing_detected,
       i.source_ip_count, (SELECT count(*)::int FROM incident_events e WHERE e.incident_id = i.id AND e.kind = 'updated') AS updates,
       CASE WHEN jsonb_typeof(i.details->'ttl_histogram') = 'object'
         THEN (SELECT coalesce(sum(v::numeric), 0)::float8 FROM jsonb_each_text(i.details->'ttl_histogram') AS t(k, v)) END AS packets,
       coalesce(i.details->'top_src_ips', '[]'::jsonb) AS top_src_ips, coalesce(i.details->'top_dst_ports', '[]'::jsonb) AS top_dst_ports
     FROM incidents i JOIN nodes n ON n.id = i.node_id WHERE i.id = $1 FOR UPDATE OF i`,
    [id],
  );
  return rows[0];
}

export async function history(db: Queryable, p: Policy, inc: IncidentView): Promise<History> {
  const { rows } = await db.query<{ sources: string[] | null; last: Date | null }>(
    `SELECT (SELECT sources FROM policy_firings WHERE policy_id = $1 AND incident_id = $2) AS sources,
       (SELECT max(fired_at) FROM policy_firings WHERE policy_id = $1 AND node_id = $3 AND incident_id <> $2) AS last`,
    [p.id, inc.id, inc.node_id],
  );
  const r = rows[0];
  return { sources: new Set(r?.sources ?? []), lastFiredElsewhereMs: r?.last ? r.last.getTime() : undefined };
}

export async function recordFiring(db: Queryable, p: Policy, inc: IncidentView, sources: string[]): Promise<void> {
  await db.query(
    `INSERT INTO policy_firings (policy_id, incident_id, node_id, sources) VALUES ($1, $2, $3, $4::text[])
     ON CONFLICT (policy_id, incident_id) DO UPDATE SET sources = policy_firings.sources || EXCLUDED.sources, fired_at = now()`,
    [p.id, inc.id, inc.node_id, sources],
  );
}

/**
 * What already holds each match on the nodes a new rule would reach, or null:
 * a rule in force of the workspace for that node or all of them (for a
 * workspace-wide log rule, a rule of any node; for a drop rule, a drop rule
 * only: a drop replaces a count), and for a log rule also a drop rule the
 * node's agent put there by itself (auto-mitigation), which a log rule of the
 * same match would turn into a count. One statement for all the matches (a
 * policy's 32 rules made 32 before).
 */
export async function liveRulesOfMatches(
  db: Queryable,
  workspaceId: number,
  nodeId: number | null,
  matches: readonly { source: { cidr: string }; protocol?: string; port?: number }[],
  logOnly: boolean,
): Promise<(string | null)[]> {
  if (matches.length === 0) return [];
  const { rows } = await db.query<{ ord: number; held: string | null }>(
    `SELECT m.ord::int AS ord, h.held FROM unnest($2::cidr[], $3::text[], $4::int[]) WITH ORDINALITY AS m(source, protocol, port, ord)
     LEFT JOIN LATERAL (
       SELECT 'rule #' || r.id AS held FROM mitigation_rules r
       WHERE r.workspace_id = $1 AND r.source = m.source AND r.protocol IS NOT DISTINCT FROM m.protocol AND r.port IS NOT DISTINCT FROM m.port
         AND r.withdrawn_at IS NULL AND r.expires_at > now() AND (r.action = 'drop' OR $6::boolean)
         AND (r.node_id IS NULL OR r.node_id = $5 OR ($5::bigint IS NULL AND $6::boolean))
       UNION ALL
       SELECT 'a local rule of node ' || k.node_id FROM node_kernel_rules k JOIN nodes n ON n.id = k.node_id
       WHERE $6::boolean AND n.workspace_id = $1 AND ($5::bigint IS NULL OR k.node_id = $5) AND k.origin = 'local' AND k.mode = 'drop'
         AND k.source = m.source AND k.protocol IS NOT DISTINCT FROM m.protocol AND k.port IS NOT DISTINCT FROM m.port AND k.icmp_type IS NULL
         AND (k.expires_at IS NULL OR k.expires_at > now())
       LIMIT 1
     ) h ON true ORDER BY m.ord`,
    [
      workspaceId,
      matches.map((m) => m.source.cidr),
      matches.map((m) => m.protocol ?? null),
      matches.map((m) => m.port ?? null),
      nodeId,
      logOnly,
    ],
  );
  return rows.map((r) => r.held);
}

/** Policy rules whose incident resolved more than their grace ago, not withdrawn or expired yet. */
export async function dueWithdrawals(db: Queryable): Promise<{ id: number; workspace_id: number }[]> {
  const { rows } = await db.query<{ id: number; workspace_id: number }>(
    `SELECT r.id, r.workspace_id FROM mitigation_rules r JOIN incidents i ON i.id = r.incident_id
     WHERE r.policy_id IS NOT NULL AND r.withdrawn_at IS NULL AND r.expires_at > now() AND i.status = 'resolved'
       AND i.resolved_at + make_interval(secs => coalesce(r.withdraw_after_seconds, 0)) <= now()`,
  );
  return rows;
}
