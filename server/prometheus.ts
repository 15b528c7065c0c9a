// GET /api/metrics: the metrics of SPEC.md section 2 for the token's
// workspace. Each scrape builds a private prom-client Registry whose gauges
// take their values from one read of the database (shared by all gauges of
// that scrape: workspace gauges set in collect(), per-node gauges list their
// series in get()), so nothing is kept between scrapes and any server process
// answers the same. Every series carries tenant_id (the workspace
// UUID); per-node series carry node (its name, unique in a workspace) and ip. Until BGP
// adapters exist each node's XDP enforcement is its adapter: type="xdp",
// healthy while its agent's kernel report (POST /api/v1/agent/rules) is
// fresh (within the online window) and says the program is attached.
import { Gauge, Registry } from 'prom-client';
import type { Db } from './db.ts';
import { type NodeRow, type Snapshot, scrapeSnapshot as snapshot } from './sql/prometheus.ts';

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
  constructor(
    cfg: { name: string; help: string; labelNames: T[]; registers: Registry[] },
    private readonly series: () => Promise<Series<T>[]>,
  ) {
    super(cfg);
  }

  override async get() {
    return { ...(await super.get()), values: await this.series() };
  }
}

/** Renders the exposition text of one workspace. */
export async function renderMetrics(
  db: Db,
  workspaceId: number,
  opts: { prefix: string; onlineSeconds: number },
): Promise<{ text: string; contentType: string }> {
  const registry = new Registry();
  let snap: Promise<Snapshot> | undefined;
  const load = () => (snap ??= snapshot(db, workspaceId, opts.onlineSeconds));
  const p = opts.prefix;

  const workspaceGauge = (name: string, help: string, value: (s: Snapshot) => number) =>
    new Gauge<'tenant_id'>({
      name: p + name,
      help,
      labelNames: ['tenant_id'],
      registers: [registry],
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
  nodeGauge(
    'node_pps',
    'Current packets per second per node.',
    current((n) => n.pps),
  );
  nodeGauge(
    'node_bps',
    'Current bits per second per node.',
    current((n) => n.bps),
  );
  nodeGauge(
    'node_tcp_pct',
    'TCP share of packets per node, percent.',
    current((n) => n.tcp_pct),
  );
  nodeGauge(
    'node_udp_pct',
    'UDP share of packets per node, percent.',
    current((n) => n.udp_pct),
  );
  nodeGauge(
    'node_icmp_pct',
    'ICMP share of packets per node, percent.',
    current((n) => n.icmp_pct),
  );
  nodeGauge(
    'node_connections',
    'Active connections per node.',
    current((n) => n.conn_count),
  );
  // Extension series (not SPEC's): fragments and packets the kernel's rules dropped, a second.
  nodeGauge(
    'node_fragments_pps',
    'IP fragments per second per node (extension).',
    current((n) => n.fragments_pps),
  );
  nodeGauge(
    'node_dropped_pps',
    "Packets per second per node dropped by the node's XDP rules (extension).",
    current((n) => n.dropped_pps),
  );
  nodeGauge('node_kill_switch', "1 while the node's dropping is stopped by its or its workspace's kill switch (extension).", (n) =>
    n.kill_switch ? 1 : 0,
  );
  // The kernel's side: what it said last (absent when it has said nothing within the online window), and a lasting difference.
  nodeGauge(
    'node_kill_switch_in_force',
    "1 while the node's kernel says its kill switch is on, as its agent last reported (extension).",
    (n) => (n.kill_switch_in_force === null ? null : n.kill_switch_in_force ? 1 : 0),
  );
  nodeGauge(
    'node_kill_switch_mismatch',
    "1 while the node's kernel has not followed the kill switch set for it for more than 30 s (extension).",
    (n) => (n.kill_switch_mismatch ? 1 : 0),
  );
  nodeGauge('node_baseline_avg_pps', 'Baseline average packets per second per node.', (n) => n.mean_pps);
  nodeGauge('node_baseline_p95_pps', 'Baseline 95th percentile packets per second per node.', (n) => n.p95_pps);
  nodeGauge('node_baseline_p99_pps', 'Baseline 99th percentile packets per second per node.', (n) => n.p99_pps);
  workspaceGauge('incidents_active', 'Currently active incidents.', (s) => s.incidentsActive);
  workspaceGauge('incidents_last_24h', 'Incidents opened in the last 24 hours.', (s) => s.incidents24h);
  workspaceGauge(
    'mitigation_active_rules',
    "Active mitigation rules: drop rules in force in the nodes' kernels, as reported.",
    (s) => s.rules.active,
  );
  workspaceGauge('mitigation_pending_rules', 'Pending mitigation rules: commands the nodes have not answered yet.', (s) => s.rules.pending);
  workspaceGauge(
    'mitigation_failed_rules',
    'Failed mitigation rules: commands the nodes refused, of rules in force.',
    (s) => s.rules.failed,
  );
  new SnapshotGauge<'tenant_id' | 'adapter' | 'type'>(
    {
      name: `${p}mitigation_adapter_healthy`,
      help: 'Adapter health, 1 healthy / 0 down (xdp: the program attached, as the node last reported).',
      labelNames: ['tenant_id', 'adapter', 'type'],
      registers: [registry],
    },
    async () => {
      const s = await load();
      return s.nodes.map((n) => ({ labels: { tenant_id: s.tenant, adapter: n.name, type: 'xdp' }, value: n.healthy ? 1 : 0 }));
    },
  );

  return { text: await registry.metrics(), contentType: registry.contentType };
}
