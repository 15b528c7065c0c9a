// The schedule of the periodic work (baselines, rollups, retention): a
// setTimeout chain aligned on the wall clock, never overlapping. Several
// server processes may share one database: a transaction-level advisory lock
// lets one of them do each round and the others skip it.

import type { ServerConfig } from './config.ts';
import type { Db } from './db.ts';
import type { Logger } from './log.ts';
import { resolveSilent } from './sql/incidents.ts';
import { enforceRetention, recomputeBaselines, rollup, tryLockRound } from './sql/maintenance.ts';
import { deleteAbandonedPcaps } from './sql/pcaps.ts';

export const LOCK_KEY = 0x42_57_4d_54; // "BWMT"

export interface MaintenanceResult {
  ran: boolean;
  rolledUp: number;
  rawDeleted: number;
  rollupsDeleted: number;
  baselines: number;
  /** Captures whose upload never finished (the process died mid-upload), removed an hour on. */
  abandonedPcaps: number;
  /** Open incidents of nodes silent past incidentSilenceMinutes, resolved. */
  silentResolved: number;
}

/** One round; `ran` is false when another process holds the lock. */
export async function runMaintenance(db: Db, cfg: ServerConfig): Promise<MaintenanceResult> {
  return db.withTransaction(async (client) => {
    if (!(await tryLockRound(client, LOCK_KEY)))
      return { ran: false, rolledUp: 0, rawDeleted: 0, rollupsDeleted: 0, baselines: 0, abandonedPcaps: 0, silentResolved: 0 };
    const lookback = Math.max(2, Math.ceil((2 * cfg.maintenanceIntervalSeconds) / 60));
    const rolledUp = await rollup(client, lookback);
    const [rawDeleted, rollupsDeleted] = await enforceRetention(client, cfg.rawRetentionHours, cfg.rollupRetentionDays);
    const baselines = await recomputeBaselines(client, cfg.baselineWindowMinutes);
    const abandonedPcaps = await deleteAbandonedPcaps(client, 60);
    const silentResolved = cfg.incidentSilenceMinutes > 0 ? await resolveSilent(client, cfg.incidentSilenceMinutes) : 0;
    return { ran: true, rolledUp, rawDeleted, rollupsDeleted, baselines, abandonedPcaps, silentResolved };
  });
}

export function scheduleMaintenance(db: Db, cfg: ServerConfig, log: Logger): () => Promise<void> {
  const every = cfg.maintenanceIntervalSeconds * 1000;
  if (every <= 0) return async () => {};
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let stopped = false;
  const tick = () => {
    running = (async () => {
      const start = performance.now();
      try {
        const r = await runMaintenance(db, cfg);
        if (r.ran) log.info('maintenance', { ...r, ms: Math.round(performance.now() - start) });
      } catch (err) {
        log.error('maintenance failed', { error: (err as Error).message });
      }
    })();
    void running.then(schedule);
  };
  const schedule = () => {
    if (stopped) return;
    timer = setTimeout(tick, every - (Date.now() % every));
    timer.unref();
  };
  schedule();
  return async () => {
    stopped = true;
    clearTimeout(timer);
    await running;
  };
}
