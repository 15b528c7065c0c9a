// User API, /api/v1 (workspace token), on the contract's schemas
// (contract/wire/user.ts). Everything is scoped to the token's workspace:
// another workspace's objects are 404, as if they did not exist.
import { Readable } from 'node:stream';
import Router from '@koa/router';
import { BODY_LIMITS } from '../../contract/limits.ts';
import * as S from '../../contract/wire/user.ts';
import type { Deps } from '../app.ts';
import { credentials, userAuth } from '../auth.ts';
import { body, reply } from '../codec.ts';
import { notFound, validationFailed } from '../errors.ts';
import { checkRule } from '../rule-check.ts';
import * as incidents from '../sql/incidents.ts';
import { nodeKernel } from '../sql/kernel-rules.ts';
import { getBaseline } from '../sql/maintenance.ts';
import { lastSample, nodeSeries } from '../sql/metrics.ts';
import * as rules from '../sql/mitigations.ts';
import * as nodes from '../sql/nodes.ts';
import { findPcap, pcapChunks } from '../sql/pcaps.ts';
import * as ws from '../sql/workspaces.ts';
import { parse, validate } from '../validate.ts';
import { emptyBody, idOf, input, KB, noBody, wsId } from './user-common.ts';

export function userRoutes({ db, cfg }: Deps): Router {
  const r = new Router({ prefix: '/api/v1' });
  const auth = userAuth(db);
  const online = cfg.onlineSeconds;

  r.get('/workspace', auth, noBody, async (ctx) => {
    reply(ctx, 200, presentWorkspace((await ws.getWorkspace(db, wsId(ctx)))!));
  });
  r.patch('/workspace', auth, body(BODY_LIMITS.user), validate(S.patchWorkspace), async (ctx) => {
    reply(ctx, 200, presentWorkspace((await ws.updateWorkspace(db, wsId(ctx), input(ctx)))!));
  });

  r.get('/tokens', auth, noBody, async (ctx) => reply(ctx, 200, { tokens: await ws.listTokens(db, wsId(ctx)) }));
  r.post('/tokens', auth, body(4 * KB), validate(S.newToken), async (ctx) => {
    const t = await ws.createToken(db, wsId(ctx), input<{ name?: string }>(ctx).name);
    reply(ctx, 201, { id: t.id, token: t.token });
  });
  r.delete('/tokens/:id', auth, noBody, async (ctx) => {
    if (!(await ws.deleteToken(db, wsId(ctx), idOf(ctx)))) throw notFound('token');
    ctx.status = 204;
  });

  r.post('/nodes', auth, body(4 * KB), validate(S.newNode), async (ctx) => {
    const n = await db.withTransaction((c) => nodes.createNode(c, wsId(ctx), input(ctx)));
    // The key is shown here once; only its hash is stored.
    reply(ctx, 201, { id: n.id, uuid: n.uuid, api_key: n.key });
  });
  r.get('/nodes', auth, noBody, async (ctx) => reply(ctx, 200, { nodes: await nodes.listNodes(db, wsId(ctx), online) }));
  r.get('/nodes/:id', auth, noBody, async (ctx) => {
    const n = await nodes.getNode(db, wsId(ctx), idOf(ctx), online);
    if (!n) throw notFound('node');
    reply(ctx, 200, { ...n, last_sample: (await lastSample(db, n.id)) ?? null, baseline: (await getBaseline(db, n.id)) ?? null });
  });
  // What the node's kernel holds, as its agent last reported it (origins, hits).
  r.get('/nodes/:id/rules', auth, noBody, async (ctx) => {
    const k = await nodeKernel(db, wsId(ctx), idOf(ctx), online);
    if (!k) throw notFound('node');
    reply(ctx, 200, k);
  });
  r.delete('/nodes/:id', auth, noBody, async (ctx) => {
    const uuid = await nodes.deleteNode(db, wsId(ctx), idOf(ctx));
    if (!uuid) throw notFound('node');
    credentials(db).forget(uuid);
    ctx.status = 204;
  });
  r.post('/nodes/:id/key', auth, ...emptyBody, async (ctx) => {
    const n = await nodes.rotateKey(db, wsId(ctx), idOf(ctx));
    if (!n) throw notFound('node');
    credentials(db).forget(n.uuid);
    // The new key is shown here once; the old one no longer authenticates.
    reply(ctx, 200, { id: n.id, uuid: n.uuid, api_key: n.key });
  });
  r.put('/nodes/:id/kill-switch', auth, body(1 * KB), validate(S.setKillSwitch), async (ctx) => {
    if (!(await nodes.setKillSwitch(db, wsId(ctx), idOf(ctx), input<{ on: boolean }>(ctx).on))) throw notFound('node');
    reply(ctx, 200, (await nodes.getNode(db, wsId(ctx), idOf(ctx), online))!);
  });
  r.put('/nodes/:id/auto-mitigation', auth, body(1 * KB), validate(S.setAutoMitigation), async (ctx) => {
    if (!(await nodes.setAutoMitigate(db, wsId(ctx), idOf(ctx), input<{ on: boolean | null }>(ctx).on))) throw notFound('node');
    reply(ctx, 200, (await nodes.getNode(db, wsId(ctx), idOf(ctx), online))!);
  });
  r.put('/workspace/kill-switch', auth, body(1 * KB), validate(S.setKillSwitch), async (ctx) => {
    await ws.setWorkspaceKillSwitch(db, wsId(ctx), input<{ on: boolean }>(ctx).on);
    reply(ctx, 200, presentWorkspace((await ws.getWorkspace(db, wsId(ctx)))!));
  });
  r.put('/nodes/:id/threshold', auth, body(4 * KB), validate(S.setThreshold), async (ctx) => {
    if (!(await nodes.setThreshold(db, wsId(ctx), idOf(ctx), input<S.SetThreshold>(ctx)))) throw notFound('node');
    reply(ctx, 200, (await nodes.getNode(db, wsId(ctx), idOf(ctx), online))!);
  });
  r.get('/nodes/:id/metrics', auth, noBody, validate(S.seriesQuery, 'query'), async (ctx) => {
    const n = await nodes.getNode(db, wsId(ctx), idOf(ctx), online);
    if (!n) throw notFound('node');
    const q = input<S.SeriesQuery>(ctx);
    const to = q.to ?? new Date();
    const from = q.from ?? new Date(to.getTime() - 3600_000);
    reply(ctx, 200, {
      node_id: n.id,
      resolution: q.resolution,
      samples: await nodeSeries(db, n.id, { from, to, resolution: q.resolution, limit: q.limit }),
    });
  });

  r.get('/incidents', auth, noBody, validate(S.incidentQuery, 'query'), async (ctx) => {
    const f = input<S.IncidentQuery>(ctx);
    const list = await incidents.list(db, wsId(ctx), f);
    reply(ctx, 200, { incidents: list, next_before: list.length === f.limit ? list[list.length - 1]!.id : null });
  });
  r.get('/incidents/:id', auth, noBody, async (ctx) => {
    const inc = await incidents.get(db, wsId(ctx), idOf(ctx));
    if (!inc) throw notFound('incident');
    reply(ctx, 200, inc);
  });

  r.get('/pcaps/:id', auth, noBody, async (ctx) => {
    const p = await findPcap(db, wsId(ctx), parse(S.pcapParam, ctx.params).id);
    if (!p) throw notFound('pcap');
    ctx.status = 200;
    ctx.type = 'application/vnd.tcpdump.pcap';
    ctx.length = p.size;
    ctx.set('Content-Disposition', `attachment; filename="incident-${p.incident_id}-${p.uuid}.${p.format}"`);
    ctx.set('Digest', `sha-256=${Buffer.from(p.sha256, 'hex').toString('base64')}`);
    ctx.body = Readable.from(pcapChunks(db, p.id));
  });

  r.post('/mitigations', auth, body(4 * KB), validate(S.newRule), async (ctx) => {
    const v = input<S.NewRule>(ctx);
    // The policy of an agent with default settings, and its reasons (contract/commands).
    const checked = await checkRule(db, wsId(ctx), v);
    if (!checked.ok) throw validationFailed(`${checked.field}: ${checked.reason}`);
    const id = await db.withTransaction((c) =>
      rules.createRule(c, wsId(ctx), { node_id: v.node_id, rule: checked.rule, reason: v.reason }),
    );
    if (id === null) throw notFound('node');
    reply(ctx, 201, await rules.getRule(db, wsId(ctx), id));
  });
  r.get('/mitigations', auth, noBody, validate(S.ruleQuery, 'query'), async (ctx) => {
    const q = input<S.RuleQuery>(ctx);
    const list = await rules.listRules(db, wsId(ctx), q);
    reply(ctx, 200, { rules: list, next_before: list.length === q.limit ? list[list.length - 1]!.id : null });
  });
  r.get('/mitigations/:id', auth, noBody, async (ctx) => {
    const rule = await rules.getRule(db, wsId(ctx), idOf(ctx));
    if (!rule) throw notFound('mitigation rule');
    reply(ctx, 200, rule);
  });
  r.post('/mitigations/:id/withdraw', auth, ...emptyBody, async (ctx) => {
    if (!(await db.withTransaction((c) => rules.withdrawRule(c, wsId(ctx), idOf(ctx))))) throw notFound('mitigation rule');
    reply(ctx, 200, await rules.getRule(db, wsId(ctx), idOf(ctx)));
  });

  return r;
}

function presentWorkspace(w: ws.Workspace) {
  return {
    id: w.id,
    uuid: w.uuid,
    name: w.name,
    default_pps_threshold: w.default_pps_threshold,
    default_threshold_mode: w.default_threshold_mode,
    default_bps_threshold: w.default_bps_threshold,
    default_floor_pps: w.default_floor_pps,
    ioc_patterns: w.ioc_patterns,
    kill_switch: w.kill_switch,
    created_at: w.created_at,
  };
}
