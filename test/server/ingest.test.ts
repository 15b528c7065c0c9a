// POST /api/v1/agent/metrics is served without Koa (server/ingest.ts); the
// same URL with a query string goes through the Koa route. Both must answer
// alike, status, headers and body, for every outcome; plus what only the hot
// path meets in numbers: many cold credential lookups at once, a body that
// outgrows its limit while streaming, a node deleted while its agent sends.
import http from 'node:http';
import test from 'ava';
import { agentHeaders, bearer, request } from '../helpers/http.ts';
import { count, setup, withServers } from './_harness.ts';

const each = withServers(test);
const FAST = '/api/v1/agent/metrics';
const KOA = '/api/v1/agent/metrics?via=koa';

each('the hot path and the Koa route answer alike', async (t, srv) => {
  const { ws, node } = await setup(srv);
  const b = await srv.admin.createNode(ws.id, 'node-b');
  const h = agentHeaders(node);
  let second = 0;
  const base = Date.now() - 3600_000;
  const sample = () => ({ pps: 10, bps: 20, recorded_at: new Date(base + 1000 * second++).toISOString() });
  // Built afresh for each path, so that both store their own samples.
  const cases: [string, () => Parameters<typeof request>[3]][] = [
    ['stored, JSON', () => ({ headers: h, json: sample() })],
    ['stored, MessagePack in and out', () => ({ headers: h, msgpack: [sample(), sample()], accept: 'application/msgpack' })],
    ['stored, MessagePack in, JSON out', () => ({ headers: h, msgpack: { samples: [sample()] }, accept: 'application/json' })],
    ['no key', () => ({ headers: { 'x-node-uuid': node.uuid }, json: sample() })],
    ['wrong key', () => ({ headers: agentHeaders({ uuid: node.uuid, key: 'nope' }), json: sample() })],
    [
      'key of another node',
      () => ({ headers: agentHeaders({ uuid: b.uuid, key: node.key }), json: sample(), accept: 'application/msgpack' }),
    ],
    ['user token', () => ({ headers: { ...bearer(ws.token), 'x-node-uuid': node.uuid }, json: sample() })],
    ['bad field', () => ({ headers: h, json: { pps: 'x', bps: 1 } })],
    ['bad JSON', () => ({ headers: { ...h, 'content-type': 'application/json' }, raw: '{"pps":' })],
    ['bad MessagePack', () => ({ headers: { ...h, 'content-type': 'application/msgpack' }, raw: Buffer.from([0xc1]) })],
    ['wrong type', () => ({ headers: { ...h, 'content-type': 'text/plain' }, raw: 'pps=1' })],
    ['declared too large', () => ({ headers: h, json: Array.from({ length: 30000 }, () => ({ pps: 123456789, bps: 123456789 })) })],
  ];
  for (const [what, o] of cases) {
    const fast = await request(srv.url, 'POST', FAST, o());
    const koa = await request(srv.url, 'POST', KOA, o());
    t.is(fast.status, koa.status, what);
    t.deepEqual(fast.body, koa.body, what);
    for (const name of ['content-type', 'www-authenticate']) t.is(fast.headers.get(name), koa.headers.get(name), `${what}: ${name}`);
  }
  t.is(await count(srv, 'SELECT count(*) FROM metrics_raw WHERE node_id = $1', [node.id]), 2 * (1 + 2 + 1));
  t.is(await count(srv, 'SELECT count(*) FROM metrics_raw WHERE node_id = $1', [b.id]), 0);
});

/** POSTs a chunked body (no Content-Length: the limit is only found while reading) of about `bytes`. */
function streamSamples(url: string, node: { uuid: string; key: string }, bytes: number) {
  return new Promise<{ status: number; connection?: string; body: string }>((resolve, reject) => {
    const req = http.request(
      url + FAST,
      { method: 'POST', headers: { ...agentHeaders(node), 'content-type': 'application/json' } },
      (r) => {
        let body = '';
        r.on('data', (c) => (body += c)).on('end', () => resolve({ status: r.statusCode!, connection: r.headers.connection, body }));
      },
    );
    req.on('error', reject);
    req.write('[');
    const chunk = `${JSON.stringify({ pps: 1, bps: 1 })},`;
    for (let i = 0; i < bytes / chunk.length; i++) req.write(chunk);
    req.end('{"pps":1,"bps":1}]');
  });
}

each('a body that outgrows the limit while streaming is 413, and nothing is stored', async (t, srv) => {
  const { node } = await setup(srv);
  // A little over: read to its end and dropped, so the client gets its 413 and may go on.
  const over = await streamSamples(srv.url, node, 1024 * 1024 + 10_000);
  t.is(over.status, 413);
  t.is(JSON.parse(over.body).error.code, 'payload_too_large');
  t.not(over.connection, 'close');
  // Far over: no longer read; 413 with Connection: close, or a reset when the client is still sending.
  const far = await streamSamples(srv.url, node, 3 * 1024 * 1024).catch((err: NodeJS.ErrnoException) => err);
  if (far instanceof Error) t.regex(far.code ?? '', /^(ECONNRESET|EPIPE)$/);
  else t.like(far, { status: 413, connection: 'close' });
  t.is(await count(srv, 'SELECT count(*) FROM metrics_raw WHERE node_id = $1', [node.id]), 0);
});

each('many agents at once with cold credentials: all authenticated (looked up together) and stored', async (t, srv) => {
  const { ws } = await setup(srv);
  const nodes = await Promise.all(Array.from({ length: 60 }, (_, i) => srv.admin.createNode(ws.id, `burst-${i}`)));
  const replies = await Promise.all(
    nodes.flatMap((n) =>
      [0, 1].map((s) =>
        request(srv.url, 'POST', FAST, {
          headers: agentHeaders(n),
          json: { pps: 1, bps: 1, recorded_at: new Date(Date.now() - 60_000 + 1000 * s).toISOString() },
        }),
      ),
    ),
  );
  t.deepEqual(new Set(replies.map((r) => r.status)), new Set([200]));
  t.is(await count(srv, 'SELECT count(*) FROM metrics_raw WHERE node_id = ANY($1)', [nodes.map((n) => n.id)]), 120);
});

each('a deleted node is refused at once, on both paths', async (t, srv) => {
  const { ws, node } = await setup(srv);
  const h = agentHeaders(node);
  t.is((await request(srv.url, 'POST', FAST, { headers: h, json: { pps: 1, bps: 1 } })).status, 200); // cached now
  t.is((await request(srv.url, 'DELETE', `/api/v1/nodes/${node.id}`, { headers: bearer(ws.token) })).status, 204);
  t.is((await request(srv.url, 'POST', FAST, { headers: h, json: { pps: 1, bps: 1 } })).status, 401);
  t.is((await request(srv.url, 'POST', KOA, { headers: h, json: { pps: 1, bps: 1 } })).status, 401);
});
