// Breakwater control plane: the in-process API.
//
//   import { startServer } from '../server/index.ts';
//   const srv = await startServer({ port: 0, dataDir: tmp });      // embedded PGlite in tmp
//   const srv = await startServer({ port: 0, databaseUrl: url });  // or a real PostgreSQL
//   const ws = await srv.admin.createWorkspace('lab');             // { id, uuid, name, token }
//   const node = await srv.admin.createNode(ws.id, 'edge-1');      // { id, uuid, key }
//   // agents: POST `${srv.url}/api/v1/agent/metrics` with
//   //   Authorization: Bearer ${node.key}, X-Node-UUID: ${node.uuid}
//   // users, Prometheus: Authorization: Bearer ${ws.token}
//   await srv.runMaintenance();   // baselines, rollups, retention now (tests)
//   await srv.close();            // stops HTTP, waits for pending writes, closes the database
//
// startServer(options): every option of ServerConfig (config.ts) may be given;
// the others come from the environment (DATABASE_URL, PORT, ...) or defaults.
// Pass `log: silentLogger` (or your own Logger) to keep test output quiet.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type Koa from 'koa';
import { type Admin, admin } from './admin.ts';
import { createApp, createHandler } from './app.ts';
import { limitFailures } from './auth.ts';
import { resolveConfig, type ServerConfig } from './config.ts';
import { type Db, openDb } from './db.ts';
import { FairShare } from './fair-share.ts';
import { createLogger, type Logger } from './log.ts';
import { type MaintenanceResult, runMaintenance, scheduleMaintenance } from './maintenance.ts';
import { MetricsWriter } from './metrics-writer.ts';
import { migrate } from './migrate.ts';
import { Responder } from './policy/respond.ts';
import { PushHub } from './push.ts';
import { listenForRevocations } from './revocations.ts';

export { admin } from './admin.ts';
export type { ServerConfig } from './config.ts';
export { openDb } from './db.ts';
export type { Logger } from './log.ts';
export { createLogger, silentLogger } from './log.ts';
export { migrate } from './migrate.ts';

export interface StartOptions extends Partial<ServerConfig> {
  log?: Logger;
}

export interface RunningServer {
  /** http://127.0.0.1:<port> (or the host it listens on). */
  url: string;
  port: number;
  app: Koa;
  db: Db;
  config: ServerConfig;
  admin: Admin;
  /** The response policies' engine (tests wait for it: responder.idle()). */
  responder: Responder;
  runMaintenance(): Promise<MaintenanceResult>;
  close(): Promise<void>;
}

export async function startServer(opts: StartOptions = {}): Promise<RunningServer> {
  const { log: givenLog, ...rest } = opts;
  const config = resolveConfig(rest);
  const log = givenLog ?? createLogger(config.logLevel);
  const db = await openDb({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, poolSize: config.poolSize, log });
  let server: http.Server | undefined;
  try {
    await migrate(db, log);
    // At most two statements in flight, started 10 ms apart at least: under load each
    // carries the samples of many requests (fewer statements and commits, less CPU).
    const writer = new MetricsWriter(
      db,
      log,
      db.kind === 'embedded' ? { parallel: 1 } : { parallel: Math.min(2, config.poolSize), intervalMs: 10 },
    );
    const push = new PushHub(db, log);
    const responder = new Responder(db, log);
    const deps = { db, cfg: config, log, writer, share: new FairShare(config.nodeSamplesPerSecond), push, responder };
    limitFailures(db, config.authFailuresPerMinute);
    const app = createApp(deps);
    server = http.createServer(createHandler(deps, app));
    server.keepAliveTimeout = 65_000;
    const srv = server;
    await new Promise<void>((resolve, reject) => {
      srv.once('error', reject);
      srv.listen(config.port, config.host, () => resolve());
    });
    const port = (server.address() as AddressInfo).port;
    const stopMaintenance = scheduleMaintenance(db, config, log);
    const stopRevocations = listenForRevocations(db);
    push.start();
    responder.start();
    const host = config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host;
    log.info('server listening', {
      port,
      host: config.host,
      database: db.kind,
      dataDir: db.kind === 'embedded' ? config.dataDir : undefined,
    });
    let closing: Promise<void> | undefined;
    return {
      url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
      port,
      app,
      db,
      config,
      admin: admin(db),
      responder,
      runMaintenance: () => runMaintenance(db, config),
      close: () =>
        (closing ??= (async () => {
          // The push streams first: open connections keep srv.close() waiting.
          const closed = new Promise<void>((resolve) => {
            srv.close(() => resolve());
          });
          await push.stop();
          await responder.stop();
          srv.closeIdleConnections();
          await closed;
          await stopMaintenance();
          await stopRevocations();
          await writer.drain();
          await db.close();
          log.info('server stopped');
        })()),
    };
  } catch (err) {
    server?.close();
    await db.close();
    throw err;
  }
}
