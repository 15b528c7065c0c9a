// What the nodes' kernels hold (migration 008): each agent's report replaces
// its node's set, and is compared with the rules the server holds in force
// for the node. A rule is in the kernel when a kernel rule has its match
// (source, protocol, port; server rules have no ICMP type) and has not
// expired; origin and rule_id are informative (an agent restarted knows no
// origins), so the match decides.
import type { z } from 'zod';
import type { kernelRulesReport } from '../../contract/wire/kernel-rules.ts';
import type { Queryable } from '../db.ts';

export type Report = z.output<typeof kernelRulesReport>;

/** SQL: kernel rule `k` has the match of mitigation rule `r` and is in force. */
export const kernelHolds = (k: string, r: string) =>
  `${k}.source = ${r}.source AND ${k}.protocol IS NOT DISTINCT FROM ${r}.protocol AND ${k}.port IS NOT DISTINCT FROM ${r}.port
   AND ${k}.icmp_type IS NULL AND (${k}.expires_at IS NULL OR ${k}.expires_at > now())`;

/** The node's previous report time (the row locked: one report of a node at a time), or undefined without a node. */
async function lockNode(c: Queryable, nodeId: number) {
  const { rows } = await c.query<{ workspace_id: number; prev: Date | null }>(
    'SELECT workspace_id, kernel_reported_at AS prev FROM nodes WHERE id = $1 FOR UPDATE',
    [nodeId],
  );
  return rows[0];
}

/** Replaces the node's kernel rules and state. Call inside a transaction; returns the previous report's time. */
export async function storeReport(c: Queryable, nodeId: number, rep: Report): Promise<{ stored: number; prev: Date | null } | null> {
  const node = await lockNode(c, nodeId);
  if (!node) return null;
  await c.query('DELETE FROM node_kernel_rules WHERE node_id = $1', [nodeId]);
  const col = <T>(f: (r: Report['rules'][number]) => T) => rep.rules.map(f);
  if (rep.rules.length)
    await c.query(
      `INSERT INTO node_kernel_rules (node_id, source, protocol, port, icmp_type, mode, expires_at, origin, rule_id, packets, bytes)
       SELECT $1, x.source::cidr, x.protocol, x.port, x.icmp_type, x.mode, x.expires_at, x.origin,
         (SELECT r.id FROM mitigation_rules r WHERE r.id = x.rule_id AND r.workspace_id = $2), x.packets, x.bytes
       FROM unnest($3::text[], $4::text[], $5::int[], $6::int[], $7::text[], $8::timestamptz[], $9::text[], $10::bigint[],
         $11::bigint[], $12::bigint[]) AS x(source, protocol, port, icmp_type, mode, expires_at, origin, rule_id, packets, bytes)`,
      [
        nodeId,
        node.workspace_id,
        col((r) => r.source.cidr),
        col((r) => r.protocol ?? null),
        col((r) => r.port ?? null),
        col((r) => r.icmp_type ?? null),
        col((r) => r.mode),
        col((r) => r.expires_at?.toISOString() ?? null),
        col((r) => r.origin),
        col((r) => r.rule_id ?? null),
        col((r) => r.packets),
        col((r) => r.bytes),
      ],
    );
  await c.query(
    `UPDATE nodes SET kernel_reported_at = now(), kernel_attached = $2, kernel_kill_switch = $3, kernel_xdp_mode = $4,
       kernel_truncated = $5 WHERE id = $1`,
    [nodeId, rep.attached, rep.kill_switch, rep.xdp_mode ?? null, rep.truncated ?? false],
  );
  return { stored: rep.rules.length, prev: node.prev };
}

/**
 * Commands issued again after a report (call after storeReport, same
 * transaction). `since`: what happened after it (an acknowledgement, a
 * withdrawal) may postdate the report's reading of the kernel, so only what
 * happened before it counts: the previous report's time, or 10 s ago for a
 * node's first. Loops are guarded: a command is issued again only when its
 * last one was answered (applied: never while pending, never after a
 * refusal), and at most once a minute per rule and node.
 */
export async function reconcile(c: Queryable, nodeId: number, since: Date | null): Promise<{ reissued: number[]; removed: number[] }> {
  const args = [nodeId, since ?? new Date(Date.now() - 10_000)];
  // Rules in force for the node, applied, and not in its kernel.
  const add = await c.query<{ rule_id: number }>(
    `WITH missing AS (
       SELECT c.id, c.rule_id FROM node_commands c JOIN mitigation_rules r ON r.id = c.rule_id
       WHERE c.node_id = $1 AND c.op = 'add' AND c.status = 'applied' AND c.superseded_at IS NULL AND c.acked_at < $2
         AND r.withdrawn_at IS NULL AND r.expires_at > now()
         AND NOT EXISTS (SELECT 1 FROM node_kernel_rules k WHERE k.node_id = $1 AND ${kernelHolds('k', 'r')})
         AND NOT EXISTS (SELECT 1 FROM node_commands s WHERE s.rule_id = c.rule_id AND s.node_id = $1 AND s.op = 'add'
                         AND s.superseded_at > now() - interval '1 minute')
       FOR UPDATE OF c
     ), replaced AS (
       UPDATE node_commands SET superseded_at = now() WHERE id IN (SELECT id FROM missing)
     )
     INSERT INTO node_commands (rule_id, node_id, op) SELECT rule_id, $1, 'add' FROM missing RETURNING rule_id`,
    args,
  );
  // Withdrawn rules (not expired) still in the kernel, not the agent's own
  // (local), not the match of a rule in force for the node, without a remove
  // pending, refused or answered since.
  const remove = await c.query<{ rule_id: number }>(
    `WITH stale AS (
       SELECT DISTINCT r.id AS rule_id FROM node_kernel_rules k JOIN mitigation_rules r ON ${kernelHolds('k', 'r')}
       WHERE k.node_id = $1 AND k.origin <> 'local' AND (k.rule_id IS NULL OR k.rule_id = r.id)
         AND r.withdrawn_at < $2 AND r.expires_at > now()
         AND EXISTS (SELECT 1 FROM node_commands a WHERE a.rule_id = r.id AND a.node_id = $1 AND a.op = 'add')
         AND NOT EXISTS (SELECT 1 FROM node_commands x WHERE x.rule_id = r.id AND x.node_id = $1 AND x.op = 'remove'
                         AND x.superseded_at IS NULL AND (x.status <> 'applied' OR x.acked_at >= $2))
         AND NOT EXISTS (SELECT 1 FROM node_commands x WHERE x.rule_id = r.id AND x.node_id = $1 AND x.op = 'remove'
                         AND x.superseded_at > now() - interval '1 minute')
         AND NOT EXISTS (
           SELECT 1 FROM mitigation_rules l JOIN node_commands lc ON lc.rule_id = l.id
           WHERE lc.node_id = $1 AND lc.op = 'add' AND lc.superseded_at IS NULL AND lc.status IN ('pending', 'applied')
             AND l.withdrawn_at IS NULL AND l.expires_at > now()
             AND l.source = r.source AND l.protocol IS NOT DISTINCT FROM r.protocol AND l.port IS NOT DISTINCT FROM r.port)
     ), replaced AS (
       UPDATE node_commands x SET superseded_at = now() FROM stale
       WHERE x.rule_id = stale.rule_id AND x.node_id = $1 AND x.op = 'remove' AND x.superseded_at IS NULL
     )
     INSERT INTO node_commands (rule_id, node_id, op) SELECT rule_id, $1, 'remove' FROM stale RETURNING rule_id`,
    args,
  );
  return { reissued: add.rows.map((r) => r.rule_id), removed: remove.rows.map((r) => r.rule_id) };
}

/** The node's kernel as last reported (user API), or undefined when the node is not the workspace's. */
export async function nodeKernel(db: Queryable, workspaceId: number, nodeId: number, onlineSeconds: number) {
  const { rows } = await db.query(
    `SELECT id AS node_id, kernel_reported_at AS reported_at,
       coalesce(kernel_reported_at > now() - make_interval(secs => $3::float8), false) AS fresh,
       kernel_attached AS attached, kernel_kill_switch AS kill_switch, kernel_xdp_mode AS xdp_mode,
       coalesce(kernel_truncated, false) AS truncated
     FROM nodes WHERE workspace_id = $1 AND id = $2`,
    [workspaceId, nodeId, onlineSeconds],
  );
  if (!rows[0]) return undefined;
  const rules = await db.query(
    `SELECT source::text AS source, protocol, port, icmp_type, mode, expires_at,
       coalesce(expires_at <= now(), false) AS expired, origin, rule_id, packets, bytes
     FROM node_kernel_rules WHERE node_id = $1 ORDER BY source, protocol NULLS FIRST, port NULLS FIRST, icmp_type NULLS FIRST`,
    [nodeId],
  );
  return { ...rows[0], rules: rules.rows };
}
