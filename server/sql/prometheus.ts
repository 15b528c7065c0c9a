// What one scrape of /api/metrics reads (server/prometheus.ts): the nodes of a
// workspace with their last sample and baseline, and the workspace's counts,
// all in one read-only snapshot so that every gauge sees the same instant.
import type { Db } from '../db.ts';
import { rulesWithState } from './mitigations.ts';
import { statusSql } from './nodes.ts';

export interface NodeRow {
  uuid: string;
  name: string;
  ip: string;
  status: string;
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
         greatest(n.last_seen_at, l.received_at) > now() - make_interval(secs => $2::float8) AS healthy,
         coalesce(l.received_at > now() - make_interval(secs => $2::float8), false) AS fresh,
         l.pps, l.bps, l.tcp_pct, l.udp_pct, l.icmp_pct, l.conn_count, l.fragments_pps, l.dropped_pps, b.mean_pps, b.p95_pps, b.p99_pps,
         n.kill_switch OR w.kill_switch AS kill_switch
       FROM nodes n JOIN workspaces w ON w.id = n.workspace_id
         LEFT JOIN node_last_sample l ON l.node_id = n.id LEFT JOIN baselines b ON b.node_id = n.id
       WHERE n.workspace_id = $1 ORDER BY n.id`,
        [workspaceId, onlineSeconds],
      );
      const other = await client.query(
        `SELECT (SELECT uuid::text FROM workspaces WHERE id = $1) AS tenant,
         (SELECT count(*) FROM incidents i JOIN nodes n ON n.id = i.node_id WHERE n.workspace_id = $1 AND i.status = 'open')::int AS active,
         (SELECT count(*) FROM incidents i JOIN nodes n ON n.id = i.node_id WHERE n.workspace_id = $1 AND i.opened_at > now() - interval '24 hours')::int AS last24,
         (SELECT json_object_agg(state, c) FROM (SELECT state, count(*) AS c FROM (${rulesWithState}) r WHERE workspace_id = $1 GROUP BY state) s) AS rules`,
        [workspaceId],
      );
      const o = other.rows[0]!;
      const rules = o.rules ?? {};
      return {
        tenant: o.tenant,
        nodes: nodes.rows,
        incidentsActive: o.active,
        incidents24h: o.last24,
        rules: { active: rules.active ?? 0, pending: rules.pending ?? 0, failed: rules.failed ?? 0 },
      };
    },
    { isolation: 'repeatable read', readOnly: true },
  );
}
