// The Koa application: error rendering, request logs, the three APIs; and the
// server's request handler, which serves the hot metrics route without Koa.
// No state of its own beyond the pool: any number of processes can serve one database.
import type http from 'node:http';
import Koa from 'koa';
import { reply } from './codec.ts';
import type { ServerConfig } from './config.ts';
import type { Db } from './db.ts';
import { HttpError, toHttpError } from './errors.ts';
import type { FairShare } from './fair-share.ts';
import { ingestHandler, METRICS_PATH } from './ingest.ts';
import { type Logger, logRequest, redactUrl } from './log.ts';
import type { MetricsWriter } from './metrics-writer.ts';
import type { Responder } from './policy/respond.ts';
import type { PushHub } from './push.ts';
import { agentRoutes } from './routes/agent.ts';
import { agentRuleRoutes } from './routes/agent-rules.ts';
import { policyRoutes } from './routes/policies.ts';
import { prometheusRoutes } from './routes/prometheus.ts';
import { userRoutes } from './routes/user.ts';
import { ping } from './sql/health.ts';

export interface Deps {
  db: Db;
  cfg: ServerConfig;
  log: Logger;
  writer: MetricsWriter;
  share: FairShare;
  push: PushHub;
  responder: Responder;
}

/**
 * The server's request handler: the hot metrics route (ingest.ts) on the plain
 * Node request, every other request through the Koa application.
 */
export function createHandler(deps: Deps, app: Koa): http.RequestListener {
  const koa = app.callback();
  const ingest = ingestHandler(deps);
  return (req, res) => (req.method === 'POST' && req.url === METRICS_PATH ? ingest(req, res) : koa(req, res));
}

export function createApp(deps: Deps): Koa {
  const { log } = deps;
  const app = new Koa({ proxy: false });
  app.silent = true; // unexpected errors are logged below, once, without stacks in responses

  app.use(async (ctx, next) => {
    const start = performance.now();
    try {
      await next();
      if (ctx.status === 404 && ctx.body === undefined) throw new HttpError(404, 'not_found', `no route for ${ctx.method} ${ctx.path}`);
    } catch (err) {
      const e = toHttpError(err, log, ctx.method, redactUrl(ctx.url));
      ctx.set(e.headers);
      reply(ctx, e.status, { error: { code: e.code, message: e.message } });
    } finally {
      logRequest(log, ctx.method, ctx.url, ctx.status, start, ctx.state.node?.uuid);
    }
  });

  app.use(healthz(deps));
  for (const r of [agentRoutes(deps), agentRuleRoutes(deps), userRoutes(deps), policyRoutes(deps), prometheusRoutes(deps)]) {
    app.use(r.routes());
    app.use(r.allowedMethods());
  }
  app.on('error', (err) => log.error('unhandled', { error: (err as Error).message }));
  return app;
}

function healthz({ db }: Deps) {
  return async (ctx: Koa.Context, next: Koa.Next) => {
    if (ctx.path !== '/healthz') return next();
    await ping(db);
    reply(ctx, 200, { ok: true, database: db.kind });
  };
}
