// What GET /api/v1/agent/config answers a node (SPEC section 1), built in one
// place for the poll and for the push stream (server/push.ts), typed by the
// contract's configReply.
import type { z } from 'zod';
import type { configReply } from '../contract/wire/agent.ts';
import { type IocPattern, iocPattern } from '../contract/wire/ioc.ts';
import type { Queryable } from './db.ts';
import { getBaseline } from './sql/maintenance.ts';
import { pendingCommands } from './sql/mitigations.ts';
import { nodeConfig } from './sql/nodes.ts';

export type ConfigReply = z.input<typeof configReply>;

const round = (x: number) => Math.round(x);

/** The node's config, or null when the node is gone. */
export async function buildConfig(db: Queryable, nodeId: number): Promise<ConfigReply | null> {
  const cfg = await nodeConfig(db, nodeId);
  if (!cfg) return null;
  const b = await getBaseline(db, nodeId);
  return {
    node_id: nodeId,
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
    // Only patterns of the contract's shape (a workspace may hold older, unchecked ones).
    ioc_patterns: cfg.ioc_patterns.filter((p): p is IocPattern => iocPattern.safeParse(p).success),
    pending_commands: await pendingCommands(db, nodeId),
  };
}
