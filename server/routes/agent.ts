// Agent API, /api/v1/agent (SPEC.md section 1). Every route reads
// agentAuth, body(limit), validate(schema), handler.
import Router from '@koa/router';
import type { Context } from 'koa';
import type { Deps } from '../app.ts';
import { agentAuth, type AgentState } from '../auth.ts';
import { body, readRaw, reply } from '../codec.ts';
import { conflict, notFound, validationFailed } from '../errors.ts';
import { receivePcap } from '../pcap-upload.ts';
import * as S from '../schemas.ts';
import { report, resolve, addEvent, nodeOwnsIncident } from '../sql/incidents.ts';
import { METRICS_LIMIT, storeMetrics } from '../ingest.ts';
import { getBaseline } from '../sql/maintenance.ts';
import { ackCommand, pendingCommands } from '../sql/mitigations.ts';
import { recordHeartbeat } from '../sql/nodes.ts';
import { storePcap } from '../sql/pcaps.ts';
import { validate } from '../validate.ts';

const KB = 1024;
const node = (ctx: Context) => (ctx.state as AgentState).node;
const input = <T>(ctx: Context) => ctx.state.input as T;
const noBody = async (ctx: Context, next: () => Promise<unknown>) => { await readRaw(ctx, 0); await next(); };

export function agentRoutes({ db, cfg, writer }: Deps): Router {
  const r = new Router({ prefix: '/api/v1/agent' });
  const auth = agentAuth(db);

  r.post('/heartbeat', auth, body(4 * KB), validate(S.heartbeat), async (ctx) => {
    await recordHeartbeat(db.pool, node(ctx).id, input(ctx));
    reply(ctx, 200, { ok: true, server_time: new Date().toISOString() });
  });

  // Requests to exactly POST /api/v1/agent/metrics are served by ingest.ts without Koa;
  // this route, the same steps, answers the others (e.g. with a query string).
  r.post('/metrics', auth, body(METRICS_LIMIT), async (ctx) => {
    reply(ctx, 200, await storeMetrics(writer, node(ctx).id, (ctx.request as { body?: unknown }).body));
  });

  r.post('/incident', auth, body(256 * KB), validate(S.incident), async (ctx) => {
    const { incident_id, ...rep } = input<S.IncidentInput>(ctx);
    const res = await db.withTransaction((c) => report(c, node(ctx).id, rep, incident_id));
    if (!res) throw notFound('incident');
    if (!res.opened && incident_id !== undefined && !(await isOpen(ctx, res.id))) throw conflict(`incident ${res.id} is resolved`);
    reply(ctx, res.opened ? 201 : 200, { incident_id: res.id, status: 'open', created: res.opened });
  });

  // Extension: resolve an incident.
  r.post('/incident/resolve', auth, body(4 * KB), validate(S.resolveIncident), async (ctx) => {
    const { incident_id } = input<{ incident_id: number }>(ctx);
    const res = await db.withTransaction((c) => resolve(c, node(ctx).id, incident_id));
    if (!res) throw notFound('incident');
    reply(ctx, 200, { incident_id, status: 'resolved' });
  });

  r.post('/pcap', auth, async (ctx) => {
    const up = await receivePcap(ctx);
    try {
      const raw = up.fields.incident_id;
      if (raw === undefined) throw validationFailed('incident_id: required');
      if (!/^\d{1,15}$/.test(raw.trim())) throw validationFailed('incident_id: expected an integer');
      const incidentId = Number(raw);
      if (!(await nodeOwnsIncident(db.pool, node(ctx).id, incidentId))) throw notFound('incident');
      const stored = await db.withTransaction(async (c) => {
        const p = await storePcap(c, incidentId, up.file, up);
        await addEvent(c, incidentId, 'pcap', { pcap_id: p.id, size: up.size, format: up.format });
        return p;
      });
      reply(ctx, 201, { pcap_id: stored.id, uuid: stored.uuid, format: up.format, size: up.size, packets: up.packets, sha256: up.sha256 });
    } finally {
      up.cleanup();
    }
  });

  r.get('/config', auth, noBody, async (ctx) => {
    const n = node(ctx);
    const { rows } = await db.query<{ pps_threshold: number; ioc_patterns: unknown[] }>(
      `SELECT coalesce(n.pps_threshold, w.default_pps_threshold) AS pps_threshold, w.ioc_patterns
       FROM nodes n JOIN workspaces w ON w.id = n.workspace_id WHERE n.id = $1`,
      [n.id],
    );
    if (!rows[0]) throw notFound('node');
    const b = await getBaseline(db.pool, n.id);
    reply(ctx, 200, {
      node_id: n.id,
      pps_threshold: rows[0].pps_threshold,
      baseline: b ? { mean_pps: round(b.mean_pps), p95_pps: round(b.p95_pps), p99_pps: round(b.p99_pps), samples: b.samples, computed_at: b.computed_at } : null,
      ioc_patterns: rows[0].ioc_patterns,
      pending_commands: await pendingCommands(db.pool, n.id),
    });
  });

  // Extension: the agent reports whether it applied a command.
  r.post('/commands/:id/ack', auth, body(4 * KB), validate(S.ack), async (ctx) => {
    const id = Number(ctx.params.id);
    if (!Number.isSafeInteger(id) || id <= 0) throw validationFailed('id: expected a positive integer');
    const a = input<{ status: 'applied' | 'failed'; reason?: string }>(ctx);
    const res = await ackCommand(db.pool, node(ctx).id, id, a.status, a.reason ?? null);
    if (res === 'gone') throw notFound('command');
    if (res === 'conflict') throw conflict(`command ${id} was already answered or withdrawn`);
    reply(ctx, 200, { id, status: a.status });
  });

  async function isOpen(_ctx: Context, id: number) {
    const { rows } = await db.query<{ status: string }>('SELECT status FROM incidents WHERE id = $1', [id]);
    return rows[0]?.status === 'open';
  }
  void cfg;
  return r;
}

const round = (x: number) => Math.round(x);
