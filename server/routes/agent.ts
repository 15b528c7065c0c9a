// Agent API, /api/v1/agent (SPEC.md section 1), on the contract's schemas
// (contract/wire/agent.ts). Every route reads agentAuth, body(limit),
// validate(schema), handler; replies are typed by the contract's reply schemas.
import { PassThrough } from 'node:stream';
import Router from '@koa/router';
import type { Context } from 'koa';
import type { z } from 'zod';
import { BODY_LIMITS } from '../../contract/limits.ts';
import * as A from '../../contract/wire/agent.ts';
import { PUSH_PATH } from '../../contract/wire/push.ts';
import type { Deps } from '../app.ts';
import { type AgentState, agentAuth } from '../auth.ts';
import { body, readRaw, reply } from '../codec.ts';
import { conflict, notFound } from '../errors.ts';
import { METRICS_LIMIT, storeMetrics } from '../ingest.ts';
import { buildConfig } from '../node-config.ts';
import { receivePcap } from '../pcap-upload.ts';
import { incidentStatus, nodeOwnsIncident, report, resolve } from '../sql/incidents.ts';
import { ackCommand } from '../sql/mitigations.ts';
import { recordHeartbeat } from '../sql/nodes.ts';
import { storePcap } from '../sql/pcaps.ts';
import { parse, validate } from '../validate.ts';

/** Events waiting for a push stream's reader past this close it (the agent polls, and connects again). */
const MAX_UNREAD_BYTES = 1 << 20;

const node = (ctx: Context) => (ctx.state as AgentState).node;
const input = <T>(ctx: Context) => ctx.state.input as T;
const noBody = async (ctx: Context, next: () => Promise<unknown>) => {
  await readRaw(ctx, 0);
  await next();
};
/** A reply whose value the type system checks against its contract schema's input type (no parse at run time). */
const send = <S extends z.ZodType>(ctx: Context, status: number, _schema: S, value: z.input<S>) => reply(ctx, status, value);

export function agentRoutes(deps: Deps): Router {
  const { db } = deps;
  const r = new Router({ prefix: '/api/v1/agent' });
  const auth = agentAuth(db);

  r.post('/heartbeat', auth, body(BODY_LIMITS.heartbeat), validate(A.heartbeat), async (ctx) => {
    await recordHeartbeat(db, node(ctx).id, input(ctx));
    send(ctx, 200, A.okReply, { ok: true, server_time: new Date().toISOString() });
  });

  // Requests to exactly POST /api/v1/agent/metrics are served by ingest.ts without Koa;
  // this route, the same steps, answers the others (e.g. with a query string).
  const share = async (ctx: Context, next: () => Promise<unknown>) => {
    deps.share.check(node(ctx).id);
    await next();
  };
  r.post('/metrics', auth, share, body(METRICS_LIMIT), async (ctx) => {
    send(ctx, 200, A.metricsReply, await storeMetrics(deps, node(ctx).id, (ctx.request as { body?: unknown }).body));
  });

  r.post('/incident', auth, body(BODY_LIMITS.incident), validate(A.incidentReport), async (ctx) => {
    const { incident_id, ...rep } = input<z.output<typeof A.incidentReport>>(ctx);
    const res = await db.withTransaction((c) => report(c, node(ctx).id, rep, incident_id));
    if (!res) throw notFound('incident');
    if (!res.opened && incident_id !== undefined && (await incidentStatus(db, res.id)) !== 'open')
      throw conflict(`incident ${res.id} is resolved`);
    deps.responder.onReport(res.id); // the response policies, after the reply
    send(ctx, res.opened ? 201 : 200, A.incidentReply, { incident_id: res.id, status: 'open', created: res.opened });
  });

  // Extension: resolve an incident.
  r.post('/incident/resolve', auth, body(BODY_LIMITS.resolve), validate(A.resolveIncident), async (ctx) => {
    const { incident_id } = input<{ incident_id: number }>(ctx);
    const res = await db.withTransaction((c) => resolve(c, node(ctx).id, incident_id));
    if (!res) throw notFound('incident');
    send(ctx, 200, A.incidentReply, { incident_id, status: 'resolved' });
  });

  r.post('/pcap', auth, async (ctx) => {
    const up = await receivePcap(ctx);
    try {
      const { incident_id: incidentId } = parse(A.pcapFields, up.fields);
      if (!(await nodeOwnsIncident(db, node(ctx).id, incidentId))) throw notFound('incident');
      const stored = await storePcap(db, incidentId, up.file, up);
      send(ctx, 201, A.pcapReply, {
        pcap_id: stored.id,
        uuid: stored.uuid,
        format: up.format,
        size: up.size,
        packets: up.packets,
        sha256: up.sha256,
      });
    } finally {
      up.cleanup();
    }
  });

  r.get('/config', auth, noBody, async (ctx) => {
    const cfg = await buildConfig(db, node(ctx).id);
    if (!cfg) throw notFound('node');
    send(ctx, 200, A.configReply, cfg);
  });

  // Extension: the push channel (server/push.ts), Server-Sent Events: the
  // node's config at once and again each time it changes; comments keep it open.
  r.get(PUSH_PATH, auth, noBody, async (ctx) => {
    const n = node(ctx);
    const sock = ctx.req.socket;
    sock.setTimeout(0);
    sock.setNoDelay(true);
    sock.setKeepAlive(true, 30_000);
    const out = new PassThrough();
    let open = true;
    const stream = {
      write(text: string) {
        if (!open) return;
        // An agent that does not read: its events are not kept for ever.
        if (out.writableLength > MAX_UNREAD_BYTES) stream.close();
        else out.write(text);
      },
      close() {
        if (!open) return;
        open = false;
        detach();
        out.end();
      },
    };
    const detach = deps.push.attach(n.id, n.workspaceId, stream);
    ctx.res.once('close', () => stream.close());
    ctx.status = 200;
    ctx.body = out;
    // connection: close, so that the socket ends with the stream: kept alive, the
    // client may send its next request on it to a server that is closing (which
    // then waits for it until keepAliveTimeout, 65 s).
    ctx.set({
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      'x-accel-buffering': 'no',
      connection: 'close',
    });
    out.write(': breakwater push\n\n');
  });

  // Extension: the answers to a batch of commands in one request, in one transaction, in id order
  // (two requests of one node lock its rows in the same order); each answer as POST /commands/:id/ack takes it.
  r.post('/commands/ack', auth, body(BODY_LIMITS.acks), validate(A.commandAcks), async (ctx) => {
    const { acks } = input<z.output<typeof A.commandAcks>>(ctx);
    const nodeId = node(ctx).id;
    const results = await db.withTransaction(async (c) => {
      const out = new Map<number, 'ok' | 'gone' | 'conflict'>();
      for (const a of [...acks].sort((x, y) => x.id - y.id)) out.set(a.id, await ackCommand(c, nodeId, a.id, a.status, a.reason ?? null));
      return out;
    });
    send(ctx, 200, A.acksReply, { acks: acks.map((a) => ({ id: a.id, status: a.status, result: results.get(a.id)! })) });
  });

  // Extension: the agent reports whether it applied a command.
  r.post('/commands/:id/ack', auth, body(BODY_LIMITS.ack), validate(A.commandAck), async (ctx) => {
    const id = parse(A.commandParam, ctx.params).id;
    const a = input<z.output<typeof A.commandAck>>(ctx);
    const res = await ackCommand(db, node(ctx).id, id, a.status, a.reason ?? null);
    if (res === 'gone') throw notFound('command');
    if (res === 'conflict') throw conflict(`command ${id} was already answered or withdrawn`);
    send(ctx, 200, A.ackReply, { id, status: a.status });
  });

  return r;
}
