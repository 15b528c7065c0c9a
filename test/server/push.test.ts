// The push channel at the server (GET /api/v1/agent/events), on both
// databases, read with the agent's own client and SSE reader: the config at
// once on connect; a rule created through the user API, a threshold and a
// workspace's IOC patterns each bring a new config event to the node's
// stream (and only to the streams they concern); a bad key is 401 before
// any stream; a third stream of one node closes the oldest; on PostgreSQL a
// rule created on another server process reaches a stream held by this one.
import test from 'ava';
import { AgentClient } from '../../agent/http.ts';
import { SseReader } from '../../agent/sse.ts';
import type { RunningServer } from '../../server/index.ts';
import { silentLogger, startServer } from '../../server/index.ts';
import { bearer, request } from '../helpers/http.ts';
import { setup, withServers } from './_harness.ts';

const each = withServers(test);

/** A node's push stream: its config events in order. */
async function stream(url: string, node: { uuid: string; key: string }) {
  const abort = new AbortController();
  const res = await new AgentClient({ server: url, nodeUuid: node.uuid, apiKey: node.key }).open('/events', abort.signal);
  const queue: any[] = [];
  let wake: (() => void) | undefined;
  let ended = false;
  void (async () => {
    const reader = new SseReader();
    try {
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>)
        for (const ev of reader.push(chunk))
          if (ev.event === 'config') {
            queue.push(JSON.parse(ev.data));
            wake?.();
          }
    } catch {
      /* aborted */
    }
    ended = true;
    wake?.();
  })();
  return {
    res,
    get ended() {
      return ended;
    },
    /** The next config event within ms, or undefined. */
    async next(ms = 3000): Promise<any> {
      const deadline = Date.now() + ms;
      while (!queue.length && !ended && Date.now() < deadline)
        await new Promise<void>((r) => {
          wake = r;
          setTimeout(r, 20);
        });
      return queue.shift();
    },
    close: () => abort.abort(),
  };
}

const newRule = (srv: RunningServer, token: string, nodeId: number, source: string) =>
  request(srv.url, 'POST', '/api/v1/mitigations', { headers: bearer(token), json: { node_id: nodeId, source, ttl_seconds: 60 } });

each('config at once, then again on each change that concerns the node', async (t, srv) => {
  const { ws, node } = await setup(srv, 'push');
  const other = await srv.admin.createNode(ws.id, 'node-b', { ip: '192.0.2.11' });
  const s = await stream(srv.url, node);
  const o = await stream(srv.url, other);
  t.teardown(() => {
    s.close();
    o.close();
  });
  t.is(s.res.headers.get('content-type'), 'text/event-stream; charset=utf-8');
  const first = await s.next();
  t.like(first, { node_id: node.id, pending_commands: [] });
  t.like(await o.next(), { node_id: other.id });

  const t0 = performance.now();
  const made = await newRule(srv, ws.token, node.id, '198.51.100.7');
  const replied = performance.now();
  t.is(made.status, 201, JSON.stringify(made.body));
  const pushed = await s.next();
  t.log(
    `POST /mitigations answered in ${(replied - t0).toFixed(1)} ms; the rule pushed ${(performance.now() - replied).toFixed(1)} ms later`,
  );
  t.deepEqual(
    pushed?.pending_commands?.map((c: { command: string }) => c.command),
    ['iptables -I INPUT -s 198.51.100.7 -j DROP'],
  );
  t.is(await o.next(300), undefined, 'nothing for the other node');

  const u = bearer(ws.token);
  t.is((await request(srv.url, 'PUT', `/api/v1/nodes/${node.id}/threshold`, { headers: u, json: { pps_threshold: 1234 } })).status, 200);
  t.like(await s.next(), { pps_threshold: 1234 });
  const patterns = [{ attack_name: 'x', attack_family: 'udp_flood', text: 'xyz' }];
  t.is((await request(srv.url, 'PATCH', '/api/v1/workspace', { headers: u, json: { ioc_patterns: patterns } })).status, 200);
  t.like(await s.next(), { ioc_patterns: patterns });
  t.like(await o.next(), { ioc_patterns: patterns }, 'a workspace change reaches every node of it');
});

each(
  'the kill switch: pushed to the node (its own) and to every node (the workspace one), shown in the API and the metrics',
  async (t, srv) => {
    const { ws, node } = await setup(srv, 'push-kill');
    const other = await srv.admin.createNode(ws.id, 'node-b', { ip: '192.0.2.11' });
    const s = await stream(srv.url, node);
    const o = await stream(srv.url, other);
    t.teardown(() => {
      s.close();
      o.close();
    });
    t.like(await s.next(), { kill_switch: false });
    t.like(await o.next(), { kill_switch: false });
    const u = bearer(ws.token);
    const put = (path: string, json: unknown) => request(srv.url, 'PUT', `/api/v1${path}`, { headers: u, json });
    t.is((await put(`/nodes/${node.id}/kill-switch`, { on: 'yes' })).status, 400);
    const on = await put(`/nodes/${node.id}/kill-switch`, { on: true });
    t.like(on.body, { kill_switch: true, dropping_stopped: true });
    t.like(await s.next(), { kill_switch: true });
    t.is(await o.next(300), undefined, "the node's own switch is the node's");
    const metrics = async () => (await request(srv.url, 'GET', '/api/metrics', { headers: u })).raw.toString();
    t.regex(await metrics(), /breakwater_node_kill_switch\{[^}]*node="node-a"[^}]*\} 1/);
    t.like((await put('/workspace/kill-switch', { on: true })).body, { kill_switch: true });
    t.like(await o.next(), { kill_switch: true }, "the workspace's switch stops every node");
    t.like((await request(srv.url, 'GET', `/api/v1/nodes/${other.id}`, { headers: u })).body, {
      kill_switch: false,
      dropping_stopped: true,
    });
    await put('/workspace/kill-switch', { on: false });
    t.like(await o.next(), { kill_switch: false });
    await put(`/nodes/${node.id}/kill-switch`, { on: false });
    // The node's stream also had the workspace's changes (its switch still on meanwhile): the last one counts.
    let last: any;
    for (let ev = await s.next(); ev; ev = await s.next(500)) last = ev;
    t.like(last, { kill_switch: false });
  },
);

each('thresholds: mode, bps and floor per node or from the workspace, pushed; a bad mode is 400', async (t, srv) => {
  const { ws, node } = await setup(srv, 'push-thr');
  const s = await stream(srv.url, node);
  t.teardown(() => s.close());
  t.like(await s.next(), { threshold_mode: 'dynamic', bps_threshold: null, floor_pps: null });
  const u = bearer(ws.token);
  const put = (json: unknown) => request(srv.url, 'PUT', `/api/v1/nodes/${node.id}/threshold`, { headers: u, json });
  t.is((await put({ pps_threshold: 1000, mode: 'sometimes' })).status, 400);
  const set = await put({ pps_threshold: 20_000, mode: 'static', bps_threshold: 2_000_000_000, floor_pps: 500 });
  t.like(set.body, { pps_threshold: 20_000, threshold_mode: 'static', bps_threshold: 2_000_000_000, floor_pps: 500 });
  t.like(await s.next(), { pps_threshold: 20_000, threshold_mode: 'static', bps_threshold: 2_000_000_000, floor_pps: 500 });
  // SPEC's body alone leaves the extensions as they are; null takes the workspace's.
  await put({ pps_threshold: 30_000 });
  t.like(await s.next(), { pps_threshold: 30_000, threshold_mode: 'static', floor_pps: 500 });
  await put({ pps_threshold: null, mode: null, bps_threshold: null, floor_pps: null });
  t.like(await s.next(), { threshold_mode: 'dynamic', bps_threshold: null, floor_pps: null });
  const patch = await request(srv.url, 'PATCH', '/api/v1/workspace', {
    headers: u,
    json: { default_threshold_mode: 'static', default_floor_pps: 800 },
  });
  t.like(patch.body, { default_threshold_mode: 'static', default_floor_pps: 800 });
  t.like(await s.next(), { threshold_mode: 'static', floor_pps: 800 }, "the workspace's defaults");
});

each('a bad key gets 401 and no stream; a third stream of a node closes the oldest', async (t, srv) => {
  const { node } = await setup(srv, 'push-auth');
  const bad = await request(srv.url, 'GET', '/api/v1/agent/events', {
    headers: { authorization: 'Bearer nope', 'x-node-uuid': node.uuid },
  });
  t.is(bad.status, 401);
  const a = await stream(srv.url, node);
  const b = await stream(srv.url, node);
  t.truthy(await a.next());
  t.truthy(await b.next());
  const c = await stream(srv.url, node);
  t.teardown(() => {
    for (const x of [a, b, c]) x.close();
  });
  t.truthy(await c.next());
  await a.next(2000);
  t.true(a.ended, 'the oldest stream was closed');
  t.false(b.ended);
});

test('two server processes on one PostgreSQL: a rule created on one reaches the stream held by the other', async (t) => {
  const first = each.servers.postgres;
  if (!first) return t.pass('no PostgreSQL here');
  const second = await startServer({
    port: 0,
    host: '127.0.0.1',
    log: silentLogger,
    maintenanceIntervalSeconds: 0,
    databaseUrl: each.servers.pg!.url,
  });
  t.teardown(() => second.close());
  const { ws, node } = await setup(first, 'push-two');
  const s = await stream(second.url, node);
  t.teardown(() => s.close());
  t.truthy(await s.next());
  const t0 = performance.now();
  t.is((await newRule(first, ws.token, node.id, '198.51.100.9')).status, 201);
  const pushed = await s.next();
  t.log(`through NOTIFY: ${(performance.now() - t0).toFixed(1)} ms`);
  t.is(pushed?.pending_commands?.length, 1);
});
