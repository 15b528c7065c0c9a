// What GET /api/v1/agent/config answers a node (SPEC section 1), built in one
// place for the poll and for the push stream (server/push.ts), typed by the
// contract's configReply.
import type { z } from 'zod';
import type { configReply } from '../contract/wire/agent.ts';
import { type IocPattern, iocPattern } from '../contract/wire/ioc.ts';
import type { Queryable } from './db.ts';
import { getBaselines } from './sql/maintenance.ts';
import { pendingCommands } from './sql/mitigations.ts';
import { nodeConfigs } from './sql/nodes.ts';

export type ConfigReply = z.input<typeof configReply>;

const round = (x: number) => Math.round(x);

/** The node's config, or null when the node is gone. */
export async function buildConfig(db: Queryable, nodeId: number): Promise<ConfigReply | null> {
  return (await buildConfigs(db, [nodeId])).get(nodeId) ?? null;
}

/** The configs of many nodes in three statements (the push channel refreshes thousands at once); gone nodes are left out. */
export async function buildConfigs(db: Queryable, nodeIds: readonly number[]): Promise<Map<number, ConfigReply>> {
  const [cfgs, baselines, pending] = [await nodeConfigs(db, nodeIds), await getBaselines(db, nodeIds), await pendingCommands(db, nodeIds)];
  const out = new Map<number, ConfigReply>();
  // Only patterns of the contract's shape (a workspace may hold older, unchecked ones); checked once per workspace's list.
  const checked = new Map<string, IocPattern[]>();
  const patterns = (list: unknown[]) => {
    const key = JSON.stringify(list);
    const ok = checked.get(key) ?? list.filter((p): p is IocPattern => iocPattern.safeParse(p).success);
    checked.set(key, ok);
    return ok;
  };
  for (const [id, cfg] of cfgs) {
    const b = baselines.get(id);
    out.set(id, {
      node_id: id,
      pps_threshold: cfg.pps_threshold,
      baseline: b
        ? {
            mean_pps: round(b.mean_pps),
            p95_pps: round(b.p95_pps),
            p99_pps: round(b.p99_pps),
            samples: b.samples,
            computed_at: b.computed_at,
          }
        : null,
      ioc_patterns: patterns(cfg.ioc_patterns),
      pending_commands: pending.get(id) ?? [],
      kill_switch: cfg.kill_switch,
      threshold_mode: cfg.threshold_mode,
      bps_threshold: cfg.bps_threshold,
      floor_pps: cfg.floor_pps,
      auto_mitigate: cfg.auto_mitigate,
    });
  }
  return out;
}
