// One client's trouble is nobody else's: on either database, requests that
// fail in SQL (a unique violation inside a transaction, statements that
// fail outright) never fail another node's or workspace's requests; a 49 MB
// capture upload is stored while other nodes' samples keep being answered
// in time; a node past its share of samples gets 429 with Retry-After.
// The latency bars are in `npm run bench:isolation`; here, generous bounds.
import test from 'ava';
import { pcap } from '../helpers/captures.ts';
import { agentHeaders, bearer, request } from '../helpers/http.ts';
import { setup, withServers } from './_harness.ts';

const each = withServers(test, { nodeSamplesPerSecond: 60 });

each('statements failing beside them fail no other request', async (t, srv) => {
  const a = await setup(srv, 'a');
  const b = await setup(srv, 'b');
  const others = await Promise.all(Array.from({ length: 10 }, (_, i) => srv.admin.createNode(b.ws.id, `b-${i}`)));
  const innocent: Promise<number>[] = [];
  const failing: Promise<unknown>[] = [];
  for (let i = 0; i < 150; i++) {
    failing.push(request(srv.url, 'POST', '/api/v1/nodes', { headers: bearer(a.ws.token), json: { name: 'node-a' } })); // 409: the name is taken
    failing.push(srv.db.query('SELECT 1 / 0').catch(() => {}));
    const n = others[i % others.length]!;
    innocent.push(request(srv.url, 'POST', '/api/v1/agent/heartbeat', { headers: agentHeaders(n), json: {} }).then((r) => r.status));
    innocent.push(
      request(srv.url, 'POST', '/api/v1/agent/metrics', { headers: agentHeaders(n), json: { pps: i, bps: i } }).then((r) => r.status),
    );
  }
  const statuses = await Promise.all(innocent);
  const dup = await Promise.all(failing);
  t.deepEqual(new Set(statuses), new Set([200]), `innocent requests: ${JSON.stringify(statuses.filter((s) => s !== 200))}`);
  t.true(dup.some((r) => (r as { status?: number }).status === 409));
});

each.serial('a 49 MB upload does not stall the ingest of other nodes', async (t, srv) => {
  const { node } = await setup(srv);
  const others = await setup(srv, 'others');
  const {
    rows: [inc],
  } = await srv.db.query(`INSERT INTO incidents (node_id, attack_family, severity) VALUES ($1, 'udp_flood', 'low') RETURNING id`, [
    node.id,
  ]);
  const file = pcap(49 * 1024, { size: 1000 });
  const boundary = 'bwfuzzboundary';
  const body = Buffer.concat([
    Buffer.from(
      `--${boundary}\r\nContent-Disposition: form-data; name="incident_id"\r\n\r\n${inc.id}\r\n--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="x.pcap"\r\n\r\n`,
    ),
    file,
    Buffer.from(`\r\n--${boundary}--\r\n`),
  ]);
  let done = false;
  const upload = request(srv.url, 'POST', '/api/v1/agent/pcap', {
    headers: { ...agentHeaders(node), 'content-type': `multipart/form-data; boundary=${boundary}` },
    raw: body,
  }).finally(() => {
    done = true;
  });
  const worst: number[] = [];
  while (!done) {
    const start = performance.now();
    const r = await request(srv.url, 'POST', '/api/v1/agent/metrics', { headers: agentHeaders(others.node), json: { pps: 1, bps: 1 } });
    t.is(r.status, 200);
    worst.push(performance.now() - start);
    await new Promise((r) => setTimeout(r, 20));
  }
  const up = await upload;
  t.is(up.status, 201, JSON.stringify(up.body));
  t.is(up.body.size, file.length);
  worst.sort((x, y) => y - x);
  t.log(
    `${worst.length} samples of another node during the upload: slowest ${worst
      .slice(0, 3)
      .map((x) => x.toFixed(0))
      .join(', ')} ms`,
  );
  t.true(worst.length >= 3, 'the upload took long enough to measure');
  t.true(worst[0]! < 2000, `another node waited ${worst[0]!.toFixed(0)} ms`);
});

each('a node past its share of samples gets 429 with Retry-After; another node does not', async (t, srv) => {
  const { ws, node } = await setup(srv);
  const other = await srv.admin.createNode(ws.id, 'other');
  const batch = Array.from({ length: 600 }, (_, i) => ({
    pps: i,
    bps: i,
    recorded_at: new Date(Date.now() - 3600_000 + i * 1000).toISOString(),
  }));
  t.is(
    (await request(srv.url, 'POST', '/api/v1/agent/metrics', { headers: agentHeaders(node), json: batch })).status,
    200,
    'one full batch at once',
  );
  const r = await request(srv.url, 'POST', '/api/v1/agent/metrics', {
    headers: agentHeaders(node),
    json: batch.map((s, i) => ({ ...s, pps: i + 1 })),
  });
  t.is(r.status, 429);
  t.is(r.body.error.code, 'too_many_requests');
  const wait = Number(r.headers.get('retry-after'));
  t.true(wait >= 9 && wait <= 11, `Retry-After ${wait} s: 600 samples at 60 a second`);
  t.is(
    (await request(srv.url, 'POST', '/api/v1/agent/metrics?via=koa', { headers: agentHeaders(node), json: { pps: 1, bps: 1 } })).status,
    200,
    'a single sample still fits',
  );
  t.is(
    (await request(srv.url, 'POST', '/api/v1/agent/metrics', { headers: agentHeaders(other), json: batch })).status,
    200,
    'another node has its own share',
  );
});
