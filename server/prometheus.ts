// GET /api/metrics: the metrics of SPEC.md section 2 for the token's
// workspace. Each scrape builds a private prom-client Registry whose gauges
// take their values from one read of the database (shared by all gauges of
// that scrape: workspace gauges set in collect(), per-node gauges list their
// series in get()), so nothing is kept between scrapes and any server process
// answers the same. Every series carries tenant_id (the workspace
// UUID); per-node series carry node (its name, unique in a workspace) and ip. Until BGP
// adapters exist each node's XDP enforcement is its adapter: type="xdp",
// healthy while the node reports (heard from within the online window).
import { Gauge, Registry } from 'prom-client';
import type { Db } from './db.ts';
import { statusSql } from './sql/nodes.ts';
import { rulesWithState } from './sql/mitigations.ts';

interface NodeRow {
  uuid: string; name: string; ip: string; status: string; healthy: boolean; fresh: boolean;
  pps: number | null; bps: number | null; tcp_pct: number | null; udp_pct: number | null; icmp_pct: number | null;
  conn_count: number | null; mean_pps: number | null; p95_pps: number | null; p99_pps: number | null;
}
interface Snapshot {
  tenant: string;
  nodes: NodeRow[];
  incidentsActive: number; incidents24h: number;
  rules: { active: number; pending: number; failed: number };
}

async function snapshot(db: Db, workspaceId: number, onlineSeconds: number): Promise<Snapshot> {
  const client = await db.pool.connect();
  try {
    // One snapshot: all reads see the same instant.
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    const nodes = await client.query<NodeRow>(
      `SELECT n.uuid, n.name, n.ip, ${statusSql('n', '$2::float8')} AS status,
         greatest(n.last_seen_at, l.received_at) > now() - make_interval(secs => $2::float8) AS healthy,
         coalesce(l.received_at > now() - make_interval(secs => $2::float8), false) AS fresh,
         l.pps, l.bps, l.tcp_pct, l.udp_pct, l.icmp_pct, l.conn_count, b.mean_pps, b.p95_pps, b.p99_pps
       FROM nodes n LEFT JOIN node_last_sample l ON l.node_id = n.id LEFT JOIN baselines b ON b.node_id = n.id
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
    await client.query('COMMIT');
    const o = other.rows[0];
    const rules = o.rules ?? {};
    return {
      tenant: o.tenant, nodes: nodes.rows, incidentsActive: o.active, incidents24h: o.last24,
      rules: { active: rules.active ?? 0, pending: rules.pending ?? 0, failed: rules.failed ?? 0 },
    };
  } catch (err) {
    await client.query('ROLLBACK').catch(() => {});
    throw err;
  } finally {
    client.release();
  }
}

// Node names are unique within a workspace, so `node` identifies the series.
type NodeLabel = 'tenant_id' | 'node' | 'ip';
const nodeLabels: NodeLabel[] = ['tenant_id', 'node', 'ip'];
type Series<T extends string> = { labels: Partial<Record<T, string>>; value: number };

/**
 * A gauge whose series are read from the scrape's snapshot when the Registry
 * asks for them (get), rather than set() one by one in collect(): set() hashes
 * every series' labels into a map, which with 10,000 nodes and 14 per-node
 * gauges was most of a scrape. The Registry formats the text as for any gauge.
 */
class SnapshotGauge<T extends string> extends Gauge<T> {
  constructor(cfg: { name: string; help: string; labelNames: T[]; registers: Registry[] }, private readonly series: () => Promise<Series<T>[]>) {
    super(cfg);
  }

  override async get() {
    return { ...(await super.get()), values: await this.series() };
  }
}

/** Renders the exposition text of one workspace. */
export async function renderMetrics(db: Db, workspaceId: number, opts: { prefix: string; onlineSeconds: number }): Promise<{ text: string; contentType: string }> {
  const registry = new Registry();
  let snap: Promise<Snapshot> | undefined;
  const load = () => (snap ??= snapshot(db, workspaceId, opts.onlineSeconds));
  const p = opts.prefix;

  const workspaceGauge = (name: string, help: string, value: (s: Snapshot) => number) =>
    new Gauge<'tenant_id'>({
      name: p + name, help, labelNames: ['tenant_id'], registers: [registry],
      async collect() {
        const s = await load();
        this.set({ tenant_id: s.tenant }, value(s));
      },
    });
  // One label object per node, shared by all its series.
  let labels: Promise<Partial<Record<NodeLabel, string>>[]> | undefined;
  const nodeLabelsOf = () => (labels ??= load().then((s) => s.nodes.map((n) => ({ tenant_id: s.tenant, node: n.name, ip: n.ip }))));
  const nodeGauge = (name: string, help: string, value: (n: NodeRow) => number | null) =>
    new SnapshotGauge<NodeLabel>({ name: p + name, help, labelNames: nodeLabels, registers: [registry] }, async () => {
      const [s, l] = [await load(), await nodeLabelsOf()];
      const out: Series<NodeLabel>[] = [];
      s.nodes.forEach((n, i) => {
        const v = value(n);
        if (v !== null && v !== undefined) out.push({ labels: l[i]!, value: Number(v) });
      });
      return out;
    });
  const count = (status: string) => (s: Snapshot) => s.nodes.filter((n) => n.status === status).length;
  const current = (f: (n: NodeRow) => number | null) => (n: NodeRow) => (n.fresh ? f(n) : null);

  workspaceGauge('nodes_total', 'Active nodes in the workspace.', (s) => s.nodes.length);
  workspaceGauge('nodes_online', 'Nodes currently online (reporting, no open incident).', count('online'));
  workspaceGauge('nodes_under_attack', 'Nodes currently under attack (open incident).', count('under_attack'));
  workspaceGauge('nodes_offline', 'Nodes currently offline.', count('offline'));
  nodeGauge('node_pps', 'Current packets per second per node.', current((n) => n.pps));
  nodeGauge('node_bps', 'Current bits per second per node.', current((n) => n.bps));
  nodeGauge('node_tcp_pct', 'TCP share of packets per node, percent.', current((n) => n.tcp_pct));
  nodeGauge('node_udp_pct', 'UDP share of packets per node, percent.', current((n) => n.udp_pct));
  nodeGauge('node_icmp_pct', 'ICMP share of packets per node, percent.', current((n) => n.icmp_pct));
  nodeGauge('node_connections', 'Active connections per node.', current((n) => n.conn_count));
  nodeGauge('node_baseline_avg_pps', 'Baseline average packets per second per node.', (n) => n.mean_pps);
  nodeGauge('node_baseline_p95_pps', 'Baseline 95th percentile packets per second per node.', (n) => n.p95_pps);
  nodeGauge('node_baseline_p99_pps', 'Baseline 99th percentile packets per second per node.', (n) => n.p99_pps);
  workspaceGauge('incidents_active', 'Currently active incidents.', (s) => s.incidentsActive);
  workspaceGauge('incidents_last_24h', 'Incidents opened in the last 24 hours.', (s) => s.incidents24h);
  workspaceGauge('mitigation_active_rules', 'Active mitigation rules.', (s) => s.rules.active);
  workspaceGauge('mitigation_pending_rules', 'Pending mitigation rules.', (s) => s.rules.pending);
  workspaceGauge('mitigation_failed_rules', 'Failed mitigation rules.', (s) => s.rules.failed);
  new SnapshotGauge<'tenant_id' | 'adapter' | 'type'>({
    name: p + 'mitigation_adapter_healthy', help: 'Adapter health, 1 healthy / 0 down.',
    labelNames: ['tenant_id', 'adapter', 'type'], registers: [registry],
  }, async () => {
    const s = await load();
    return s.nodes.map((n) => ({ labels: { tenant_id: s.tenant, adapter: n.name, type: 'xdp' }, value: n.healthy ? 1 : 0 }));
  });

  return { text: await registry.metrics(), contentType: registry.contentType };
}
