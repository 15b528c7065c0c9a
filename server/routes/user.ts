// User API, /api/v1 (workspace token). Everything is scoped to the token's
// workspace: another workspace's objects are 404, as if they did not exist.
import Router from '@koa/router';
import type { Context } from 'koa';
import type { Deps } from '../app.ts';
import { credentials, userAuth, type UserState } from '../auth.ts';
import { body, readRaw, reply } from '../codec.ts';
import { parseSource } from '../commands.ts';
import { notFound, validationFailed } from '../errors.ts';
import * as S from '../schemas.ts';
import * as incidents from '../sql/incidents.ts';
import { getBaseline } from '../sql/maintenance.ts';
import { nodeSeries } from '../sql/metrics.ts';
import * as rules from '../sql/mitigations.ts';
import * as nodes from '../sql/nodes.ts';
import { findPcap, pcapChunks } from '../sql/pcaps.ts';
import * as ws from '../sql/workspaces.ts';
import { parse, validate } from '../validate.ts';
import { Readable } from 'node:stream';

const KB = 1024;
const wsId = (ctx: Context) => (ctx.state as UserState).workspaceId;
const input = <T>(ctx: Context) => ctx.state.input as T;
const idOf = (ctx: Context) => parse(S.idParam, ctx.params).id;
const noBody = async (ctx: Context, next: () => Promise<unknown>) => { await readRaw(ctx, 0); await next(); };

export function userRoutes({ db, cfg }: Deps): Router {
  const r = new Router({ prefix: '/api/v1' });
  const auth = userAuth(db);
  const online = cfg.onlineSeconds;

  r.get('/workspace', auth, noBody, async (ctx) => {
    reply(ctx, 200, presentWorkspace((await ws.getWorkspace(db.pool, wsId(ctx)))!));
  });
  r.patch('/workspace', auth, body(256 * KB), validate(S.patchWorkspace), async (ctx) => {
    reply(ctx, 200, presentWorkspace((await ws.updateWorkspace(db.pool, wsId(ctx), input(ctx)))!));
  });

  r.get('/tokens', auth, noBody, async (ctx) => reply(ctx, 200, { tokens: await ws.listTokens(db.pool, wsId(ctx)) }));
  r.post('/tokens', auth, body(4 * KB), validate(S.newToken), async (ctx) => {
    const t = await ws.createToken(db.pool, wsId(ctx), input<{ name?: string }>(ctx).name);
    reply(ctx, 201, { id: t.id, token: t.token });
  });
  r.delete('/tokens/:id', auth, noBody, async (ctx) => {
    if (!(await ws.deleteToken(db.pool, wsId(ctx), idOf(ctx)))) throw notFound('token');
    ctx.status = 204;
  });

  r.post('/nodes', auth, body(4 * KB), validate(S.newNode), async (ctx) => {
    const n = await db.withTransaction((c) => nodes.createNode(c, wsId(ctx), input(ctx)));
    // The key is shown here once; only its hash is stored.
    reply(ctx, 201, { id: n.id, uuid: n.uuid, api_key: n.key });
  });
  r.get('/nodes', auth, noBody, async (ctx) => reply(ctx, 200, { nodes: await nodes.listNodes(db.pool, wsId(ctx), online) }));
  r.get('/nodes/:id', auth, noBody, async (ctx) => {
    const n = await nodes.getNode(db.pool, wsId(ctx), idOf(ctx), online);
    if (!n) throw notFound('node');
    const { rows } = await db.query('SELECT recorded_at, pps, bps, tcp_pct, udp_pct, icmp_pct, conn_count FROM node_last_sample WHERE node_id = $1', [n.id]);
    reply(ctx, 200, { ...n, last_sample: rows[0] ?? null, baseline: (await getBaseline(db.pool, n.id)) ?? null });
  });
  r.delete('/nodes/:id', auth, noBody, async (ctx) => {
    const uuid = await nodes.deleteNode(db.pool, wsId(ctx), idOf(ctx));
    if (!uuid) throw notFound('node');
    credentials(db).forget(uuid);
    ctx.status = 204;
  });
  r.post('/nodes/:id/key', auth, body(1 * KB), async (ctx) => {
    const n = await nodes.rotateKey(db.pool, wsId(ctx), idOf(ctx));
    if (!n) throw notFound('node');
    credentials(db).forget(n.uuid);
    // The new key is shown here once; the old one no longer authenticates.
    reply(ctx, 200, { id: n.id, uuid: n.uuid, api_key: n.key });
  });
  r.put('/nodes/:id/threshold', auth, body(4 * KB), validate(S.setThreshold), async (ctx) => {
    const { pps_threshold } = input<{ pps_threshold: number | null }>(ctx);
    if (!(await nodes.setThreshold(db.pool, wsId(ctx), idOf(ctx), pps_threshold))) throw notFound('node');
    reply(ctx, 200, (await nodes.getNode(db.pool, wsId(ctx), idOf(ctx), online))!);
  });
  r.get('/nodes/:id/metrics', auth, noBody, validate(S.seriesQuery, 'query'), async (ctx) => {
    const n = await nodes.getNode(db.pool, wsId(ctx), idOf(ctx), online);
    if (!n) throw notFound('node');
    const q = input<{ from?: Date; to?: Date; resolution: 'raw' | 'minute'; limit: number }>(ctx);
    const to = q.to ?? new Date();
    const from = q.from ?? new Date(to.getTime() - 3600_000);
    reply(ctx, 200, { node_id: n.id, resolution: q.resolution, samples: await nodeSeries(db.pool, n.id, { from, to, resolution: q.resolution, limit: q.limit }) });
  });

  r.get('/incidents', auth, noBody, validate(S.incidentQuery, 'query'), async (ctx) => {
    const f = input<incidents.IncidentFilter>(ctx);
    const list = await incidents.list(db.pool, wsId(ctx), f);
    reply(ctx, 200, { incidents: list, next_before: list.length === f.limit ? list[list.length - 1]!.id : null });
  });
  r.get('/incidents/:id', auth, noBody, async (ctx) => {
    const inc = await incidents.get(db.pool, wsId(ctx), idOf(ctx));
    if (!inc) throw notFound('incident');
    reply(ctx, 200, inc);
  });

  r.get('/pcaps/:id', auth, noBody, async (ctx) => {
    const id = String(ctx.params.id);
    if (!/^(\d{1,15}|[0-9a-f-]{36})$/i.test(id)) throw validationFailed('id: expected a pcap id or uuid');
    const p = await findPcap(db.pool, wsId(ctx), id.toLowerCase());
    if (!p) throw notFound('pcap');
    ctx.status = 200;
    ctx.type = 'application/vnd.tcpdump.pcap';
    ctx.length = p.size;
    ctx.set('Content-Disposition', `attachment; filename="incident-${p.incident_id}-${p.uuid}.${p.format}"`);
    ctx.set('Digest', `sha-256=${Buffer.from(p.sha256, 'hex').toString('base64')}`);
    ctx.body = Readable.from(pcapChunks(db.pool, p.id));
  });

  r.post('/mitigations', auth, body(4 * KB), validate(S.newRule), async (ctx) => {
    const v = input<rules.NewRule>(ctx);
    const source = parseSource(v.source);
    if (!source.ok) throw validationFailed(`source: ${source.reason}`);
    if (v.port !== undefined && (v.protocol === undefined || v.protocol === 'icmp')) throw validationFailed('port: needs protocol tcp or udp');
    const id = await db.withTransaction((c) => rules.createRule(c, wsId(ctx), { ...v, source: source.source }));
    if (id === null) throw notFound('node');
    reply(ctx, 201, await rules.getRule(db.pool, wsId(ctx), id));
  });
  r.get('/mitigations', auth, noBody, validate(S.ruleQuery, 'query'), async (ctx) => {
    const q = input<{ state?: rules.RuleState; limit: number; before?: number }>(ctx);
    const list = await rules.listRules(db.pool, wsId(ctx), q);
    reply(ctx, 200, { rules: list, next_before: list.length === q.limit ? list[list.length - 1]!.id : null });
  });
  r.get('/mitigations/:id', auth, noBody, async (ctx) => {
    const rule = await rules.getRule(db.pool, wsId(ctx), idOf(ctx));
    if (!rule) throw notFound('mitigation rule');
    reply(ctx, 200, rule);
  });
  r.post('/mitigations/:id/withdraw', auth, body(1 * KB), async (ctx) => {
    if (!(await db.withTransaction((c) => rules.withdrawRule(c, wsId(ctx), idOf(ctx))))) throw notFound('mitigation rule');
    reply(ctx, 200, await rules.getRule(db.pool, wsId(ctx), idOf(ctx)));
  });

  return r;
}

function presentWorkspace(w: ws.Workspace) {
  return { id: w.id, uuid: w.uuid, name: w.name, default_pps_threshold: w.default_pps_threshold, ioc_patterns: w.ioc_patterns, created_at: w.created_at };
}
