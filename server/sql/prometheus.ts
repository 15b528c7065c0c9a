// What one scrape of /api/metrics reads (server/prometheus.ts): the nodes of a
// workspace with their last sample and baseline, and the workspace's counts,
// all in one read-only snapshot so that every gauge sees the same instant.
// Rules are counted as the kernels hold them (migration 008), from reports
// within the online window: active, the drop rules in force there; pending,
// the commands not yet answered; failed, the refused ones of rules in force.
import type { Db } from '../db.ts';
import { killSwitchSql, statusSql } from './nodes.ts';

export interface NodeRow {
  uuid: string;
  name: string;
  ip: string;
  status: string;
  /** Its latest kernel report is fresh and says the XDP program is attached. */
  healthy: boolean;
  fresh: boolean;
  pps: number | null;
  bps: number | null;
  tcp_pct: number | null;
  udp_pct: number | null;
  icmp_pct: number | null;
  conn_count: number | null;
  fragments_pps: number | null;
  dropped_pps: number | null;
  kill_switch: boolean;
  /** The kernel's kill switch as last said (null: never, or not within the online window), and the mismatch (server/sql/nodes.ts). */
  kill_switch_in_force: boolean | null;
  kill_switch_mismatch: boolean;
  mean_pps: number | null;
  p95_pps: number | null;
  p99_pps: number | null;
}
export interface Snapshot {
  tenant: string;
  nodes: NodeRow[];
  incidentsActive: number;
  incidents24h: number;
  rules: { active: number; pending: number; failed: number };
}

export async function scrapeSnapshot(db: Db, workspaceId: number, onlineSeconds: number): Promise<Snapshot> {
  return db.withTransaction(
    async (client) => {
      const nodes = await client.query<NodeRow>(
        `SELECT n.uuid, n.name, n.ip, ${statusSql('n', '$2::float8')} AS status,
         coalesce(n.kernel_reported_at > now() - make_interval(secs => $2::float8) AND n.kernel_attached, false) AS healthy,
         coalesce(l.received_at > now() - make_interval(secs => $2::float8), false) AS fresh,
         l.pps, l.bps, l.tcp_pct, l.udp_pct, l.icmp_pct, l.conn_count, l.fragments_pps, l.dropped_pps, b.mean_pps, b.p95_pps, b.p99_pps,
         n.kill_switch OR w.kill_switch AS kill_switch,
         CASE WHEN greatest(n.heartbeat_kernel_at, n.kernel_reported_at) > now() - make_interval(secs => $2::float8)
           THEN k.kill_switch_in_force END AS kill_switch_in_force, k.kill_switch_mismatch
       FROM nodes n JOIN workspaces w ON w.id = n.workspace_id
         LEFT JOIN node_last_sample l ON l.node_id = n.id LEFT JOIN baselines b ON b.node_id = n.id
         CROSS JOIN LATERAL (SELECT ${killSwitchSql('n', 'w')}) k
       WHERE n.workspace_id = $1 ORDER BY n.id`,
        [workspaceId, onlineSeconds],
      );
      const other = await client.query(
        `SELECT (SELECT uuid::text FROM workspaces WHERE id = $1) AS tenant,
         (SELECT count(*) FROM incidents i JOIN nodes n ON n.id = i.node_id WHERE n.workspace_id = $1 AND i.status = 'open')::int AS active,
         (SELECT count(*) FROM incidents i JOIN nodes n ON n.id = i.node_id WHERE n.workspace_id = $1 AND i.opened_at > now() - interval '24 hours')::int AS last24,
         (SELECT count(*) FROM node_kernel_rules k JOIN nodes n ON n.id = k.node_id
          WHERE n.workspace_id = $1 AND n.kernel_reported_at > now() - make_interval(secs => $2::float8)
            AND k.mode = 'drop' AND (k.expires_at IS NULL OR k.expires_at > now()))::int AS rules_active,
         (SELECT count(*) FROM node_commands c JOIN mitigation_rules r ON r.id = c.rule_id
          WHERE r.workspace_id = $1 AND c.status = 'pending' AND r.expires_at > now()
            AND (c.op = 'remove' OR r.withdrawn_at IS NULL))::int AS rules_pending,
         (SELECT count(*) FROM node_commands c JOIN mitigation_rules r ON r.id = c.rule_id
          WHERE r.workspace_id = $1 AND c.op = 'add' AND c.status = 'failed' AND c.superseded_at IS NULL
            AND r.withdrawn_at IS NULL AND r.expires_at > now())::int AS rules_failed`,
        [workspaceId, onlineSeconds],
      );
      const o = other.rows[0]!;
      return {
        tenant: o.tenant,
        nodes: nodes.rows,
        incidentsActive: o.active,
        incidents24h: o.last24,
        rules: { active: o.rules_active, pending: o.rules_pending, failed: o.rules_failed },
      };
    },
    { isolation: 'repeatable read', readOnly: true },
  );
}
