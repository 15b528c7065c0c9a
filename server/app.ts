// The Koa application: error rendering, request logs, the three APIs.
// No state of its own beyond the pool: any number of processes can serve one database.
import Koa from 'koa';
import type { ServerConfig } from './config.ts';
import type { Db } from './db.ts';
import { HttpError, internal } from './errors.ts';
import { reply } from './codec.ts';
import { redactUrl, type Logger } from './log.ts';
import type { MetricsWriter } from './metrics-writer.ts';
import { agentRoutes } from './routes/agent.ts';
import { userRoutes } from './routes/user.ts';
import { prometheusRoutes } from './routes/prometheus.ts';

export interface Deps { db: Db; cfg: ServerConfig; log: Logger; writer: MetricsWriter }

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
      const e = err instanceof HttpError ? err : toHttpError(err, log, ctx.method, redactUrl(ctx.url));
      ctx.set(e.headers);
      reply(ctx, e.status, { error: { code: e.code, message: e.message } });
    } finally {
      const ms = +(performance.now() - start).toFixed(1);
      const fields = { method: ctx.method, url: redactUrl(ctx.url), status: ctx.status, ms, node: ctx.state.node?.uuid };
      if (ctx.status >= 500) log.error('request', fields);
      else log.debug('request', fields);
    }
  });

  app.use(healthz(deps));
  for (const r of [agentRoutes(deps), userRoutes(deps), prometheusRoutes(deps)]) {
    app.use(r.routes());
    app.use(r.allowedMethods());
  }
  app.on('error', (err) => log.error('unhandled', { error: (err as Error).message }));
  return app;
}

function toHttpError(err: unknown, log: Logger, method: string, url: string): HttpError {
  const e = err as { status?: number; expose?: boolean; message?: string; code?: string };
  // Errors Koa and its router raise on purpose (405, 501) keep their status.
  if (typeof e.status === 'number' && e.status >= 400 && e.status < 500 && e.expose) {
    return new HttpError(e.status, e.status === 405 ? 'method_not_allowed' : 'bad_request', e.message ?? 'bad request');
  }
  if (e.code === '23505') return new HttpError(409, 'conflict', 'an object with these unique fields already exists');
  log.error('unexpected error', { method, url, error: e.message, stack: (err as Error).stack?.split('\n').slice(0, 4).join(' | ') });
  return internal();
}

function healthz({ db }: Deps) {
  return async (ctx: Koa.Context, next: Koa.Next) => {
    if (ctx.path !== '/healthz') return next();
    await db.query('SELECT 1');
    reply(ctx, 200, { ok: true, database: db.kind });
  };
}
