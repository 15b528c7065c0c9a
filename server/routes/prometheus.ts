// GET /api/metrics (SPEC.md section 2): Bearer token, or ?token= (redacted from logs).
import Router from '@koa/router';
import type { Deps } from '../app.ts';
import { type UserState, userAuth } from '../auth.ts';
import { readRaw } from '../codec.ts';
import { renderMetrics } from '../prometheus.ts';

export function prometheusRoutes({ db, cfg }: Deps): Router {
  const r = new Router();
  r.get('/api/metrics', userAuth(db, { allowQueryToken: true }), async (ctx) => {
    await readRaw(ctx, 0);
    const m = await renderMetrics(db, (ctx.state as UserState).workspaceId, { prefix: cfg.metricPrefix, onlineSeconds: cfg.onlineSeconds });
    ctx.type = m.contentType;
    ctx.body = m.text;
  });
  return r;
}
