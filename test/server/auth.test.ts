// The auth matrix on both databases: missing/wrong keys (same and other
// length), a key of node A with the UUID of node B, user tokens on agent
// routes and node keys on user routes; nothing is written for a refused
// request, on every agent route including the capture upload.
import test from 'ava';
import { silentLogger, startServer } from '../../server/index.ts';
import { splitToken } from '../../server/secrets.ts';
import { pcap } from '../helpers/captures.ts';
import { agentHeaders, bearer, request } from '../helpers/http.ts';
import { count, setup, withServers } from './_harness.ts';

const each = withServers(test);

/** Every agent route, aimed at objects node A really has (an open incident, a pending command), so a refusal that leaked would show. */
function agentCalls(incident: number, command: number): [string, string, { json?: unknown; raw?: Buffer; type?: string }][] {
  const boundary = 'bwauthmatrix';
  const form = Buffer.concat([
    Buffer.from(
      `--${boundary}\r\nContent-Disposition: form-data; name="incident_id"\r\n\r\n${incident}\r\n` +
        `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="x.pcap"\r\nContent-Type: application/octet-stream\r\n\r\n`,
    ),
    pcap(3),
    Buffer.from(`\r\n--${boundary}--\r\n`),
  ]);
  return [
    ['POST', '/api/v1/agent/heartbeat', { json: { agent_version: 'x', uptime: 1, os: 'y' } }],
    ['POST', '/api/v1/agent/metrics', { json: { pps: 1, bps: 1 } }],
    ['POST', '/api/v1/agent/incident', { json: { attack_family: 'udp_flood', severity: 'critical', peak_pps: 9 } }],
    ['POST', '/api/v1/agent/incident', { json: { incident_id: incident, attack_family: 'udp_flood', severity: 'critical' } }],
    ['POST', '/api/v1/agent/incident/resolve', { json: { incident_id: incident } }],
    ['POST', '/api/v1/agent/pcap', { raw: form, type: `multipart/form-data; boundary=${boundary}` }],
    ['POST', `/api/v1/agent/commands/${command}/ack`, { json: { status: 'applied' } }],
    ['GET', '/api/v1/agent/config', {}],
  ];
}

/** Everything an agent request can write for these nodes, as one comparable value. */
async function agentState(srv: Parameters<Parameters<typeof each>[1]>[1], nodeIds: number[]) {
  const q = async (sql: string) => (await srv.db.query(sql, [nodeIds])).rows;
  return {
    samples: await count(srv, 'SELECT count(*) FROM metrics_raw WHERE node_id = ANY($1)', [nodeIds]),
    last: await q('SELECT node_id, received_at FROM node_last_sample WHERE node_id = ANY($1) ORDER BY node_id'),
    nodes: await q('SELECT id, last_seen_at, agent_version, uptime, os FROM nodes WHERE id = ANY($1) ORDER BY id'),
    incidents: await q('SELECT id, status, severity, peak_pps, updated_at, resolved_at FROM incidents WHERE node_id = ANY($1) ORDER BY id'),
    events: await q('SELECT e.id FROM incident_events e JOIN incidents i ON i.id = e.incident_id WHERE i.node_id = ANY($1) ORDER BY e.id'),
    pcaps: await q('SELECT p.id FROM pcaps p JOIN incidents i ON i.id = p.incident_id WHERE i.node_id = ANY($1)'),
    commands: await q('SELECT id, status, reason, acked_at FROM node_commands WHERE node_id = ANY($1) ORDER BY id'),
  };
}

each('agent routes: every failure is 401 alike, whether or not the key is real, and nothing is written', async (t, srv) => {
  const { ws, node: a } = await setup(srv);
  const b = await srv.admin.createNode(ws.id, 'node-b');
  const other = await setup(srv, 'other');
  const {
    rows: [inc],
  } = await srv.db.query(`INSERT INTO incidents (node_id, attack_family, severity) VALUES ($1, 'udp_flood', 'low') RETURNING id`, [a.id]);
  const rule = await request(srv.url, 'POST', '/api/v1/mitigations', {
    headers: bearer(ws.token),
    json: { node_id: a.id, source: '192.0.2.1', ttl_seconds: 600 },
  });
  const {
    rows: [cmd],
  } = await srv.db.query('SELECT id FROM node_commands WHERE rule_id = $1', [rule.body.id]);
  const ids = [a.id, b.id, other.node.id];
  const before = await agentState(srv, ids);
  t.is(before.incidents.length, 1);
  t.is(before.commands.length, 1);
  const cases: [string, Record<string, string>, number][] = [
    ['no headers', {}, 401],
    ['no key', { 'x-node-uuid': a.uuid }, 401],
    ['no uuid', { authorization: `Bearer ${a.key}` }, 401],
    ['malformed uuid', { authorization: `Bearer ${a.key}`, 'x-node-uuid': 'node-a' }, 401],
    ['not a Bearer scheme', { authorization: `Basic ${a.key}`, 'x-node-uuid': a.uuid }, 401],
    ['wrong key, same length', agentHeaders({ uuid: a.uuid, key: a.key.replace(/^./, (c) => (c === 'A' ? 'B' : 'A')) }), 401],
    ['wrong key, shorter', agentHeaders({ uuid: a.uuid, key: 'short' }), 401],
    ['wrong key, longer', agentHeaders({ uuid: a.uuid, key: a.key + a.key }), 401],
    ['unknown uuid', agentHeaders({ uuid: '00000000-0000-4000-8000-000000000000', key: a.key.slice(1) }), 401],
    // A real key with the wrong UUID is refused exactly like a made-up one: nothing tells the caller the key is real.
    ['key of B, uuid of A', agentHeaders({ uuid: a.uuid, key: b.key }), 401],
    ['key of A, uuid of B', agentHeaders({ uuid: b.uuid, key: a.key }), 401],
    ['key of another workspace node, uuid of A', agentHeaders({ uuid: a.uuid, key: other.node.key }), 401],
    ['key of A, unknown uuid', agentHeaders({ uuid: '00000000-0000-4000-8000-000000000001', key: a.key }), 401],
    ['user token on an agent route', agentHeaders({ uuid: a.uuid, key: ws.token }), 401],
  ];
  const messages = new Set<string>();
  for (const [what, headers, status] of cases) {
    for (const [method, path, o] of agentCalls(inc.id, cmd.id)) {
      const r = await request(srv.url, method, path, {
        headers: { ...headers, ...(o.type ? { 'content-type': o.type } : {}) },
        json: o.json,
        raw: o.raw,
      });
      t.is(r.status, status, `${what}: ${method} ${path}`);
      t.is(r.body.error.code, 'unauthorized');
      messages.add(r.body.error.message);
    }
  }
  t.is(messages.size, 1, `one message for every failure: ${[...messages].join(' | ')}`);
  t.deepEqual(await agentState(srv, ids), before);
  // The same calls with A's own credentials do write: the check above could fail.
  for (const [method, path, o] of agentCalls(inc.id, cmd.id)) {
    const r = await request(srv.url, method, path, {
      headers: { ...agentHeaders(a), ...(o.type ? { 'content-type': o.type } : {}) },
      json: o.json,
      raw: o.raw,
    });
    t.true(r.status < 300, `${method} ${path}: ${r.status} ${JSON.stringify(r.body)}`);
  }
  const after = await agentState(srv, ids);
  for (const k of Object.keys(before) as (keyof typeof before)[]) t.notDeepEqual(after[k], before[k], k);
});

each('user routes and /api/metrics: tokens, node keys, ?token=', async (t, srv) => {
  const { ws, node } = await setup(srv);
  const paths = ['/api/v1/workspace', '/api/v1/nodes', '/api/v1/incidents', '/api/v1/mitigations', '/api/metrics'];
  for (const p of paths) {
    t.is((await request(srv.url, 'GET', p)).status, 401, `no token ${p}`);
    t.is((await request(srv.url, 'GET', p, { headers: bearer(node.key) })).status, 401, `node key ${p}`);
    t.is((await request(srv.url, 'GET', p, { headers: agentHeaders(node) })).status, 401, `agent headers ${p}`);
    t.is(
      (await request(srv.url, 'GET', p, { headers: bearer(ws.token.slice(0, -1) + (ws.token.endsWith('A') ? 'B' : 'A')) })).status,
      401,
      `wrong token ${p}`,
    );
    t.is((await request(srv.url, 'GET', p, { headers: bearer(`${ws.token}x`) })).status, 401, `longer token ${p}`);
    t.is((await request(srv.url, 'GET', p, { headers: bearer(ws.token) })).status, 200, `token ${p}`);
  }
  t.is((await request(srv.url, 'GET', `/api/metrics?token=${encodeURIComponent(ws.token)}`)).status, 200);
  t.is(
    (await request(srv.url, 'GET', `/api/v1/nodes?token=${encodeURIComponent(ws.token)}`)).status,
    401,
    '?token= is for /api/metrics only',
  );
  // A refused create writes nothing.
  const before = await count(srv, 'SELECT count(*) FROM nodes');
  t.is((await request(srv.url, 'POST', '/api/v1/nodes', { headers: bearer(node.key), json: { name: 'x' } })).status, 401);
  t.is(await count(srv, 'SELECT count(*) FROM nodes'), before);
});

each('keys and tokens are stored only as hashes', async (t, srv) => {
  const { ws, node } = await setup(srv);
  const { rows } = await srv.db.query(
    "SELECT key_hash, (SELECT string_agg(encode(secret_hash, 'hex'), ',') FROM tokens) AS th FROM nodes WHERE id = $1",
    [node.id],
  );
  t.is(rows[0].key_hash.length, 32);
  const dump = JSON.stringify(rows[0]) + JSON.stringify((await srv.db.query('SELECT * FROM tokens')).rows);
  t.false(dump.includes(node.key));
  t.false(dump.includes(splitToken(ws.token)!.secret));
});

each('a new node key: shown once, the old key stops working at once', async (t, srv) => {
  const { ws, node } = await setup(srv);
  const u = bearer(ws.token);
  const beat = (key: string) =>
    request(srv.url, 'POST', '/api/v1/agent/heartbeat', { headers: agentHeaders({ uuid: node.uuid, key }), json: {} });
  t.is((await beat(node.key)).status, 200); // cached now
  const r = await request(srv.url, 'POST', `/api/v1/nodes/${node.id}/key`, { headers: u });
  t.is(r.status, 200);
  t.like(r.body, { id: node.id, uuid: node.uuid });
  t.not(r.body.api_key, node.key);
  t.is((await beat(node.key)).status, 401);
  t.is((await beat(r.body.api_key)).status, 200);
  t.false(JSON.stringify((await request(srv.url, 'GET', `/api/v1/nodes/${node.id}`, { headers: u })).body).includes(r.body.api_key));
  const other = await setup(srv, 'other');
  t.is((await request(srv.url, 'POST', `/api/v1/nodes/${node.id}/key`, { headers: bearer(other.ws.token) })).status, 404);
  t.is((await beat(r.body.api_key)).status, 200);
});

if (each.kinds.includes('postgres')) {
  test('two server processes on one PostgreSQL: a deleted node or a replaced key is refused by both at once', async (t) => {
    const first = each.servers.postgres!;
    const second = await startServer({
      port: 0,
      host: '127.0.0.1',
      log: silentLogger,
      maintenanceIntervalSeconds: 0,
      databaseUrl: each.servers.pg!.url,
    });
    try {
      const { ws, node } = await setup(first, 'two-procs');
      const gone = await first.admin.createNode(ws.id, 'to-delete');
      const beat = (srv: typeof first, n: { uuid: string; key: string }) =>
        request(srv.url, 'POST', '/api/v1/agent/heartbeat', { headers: agentHeaders(n), json: {} });
      // Both processes have both nodes' credentials cached (10 s).
      for (const srv of [first, second]) for (const n of [node, gone]) t.is((await beat(srv, n)).status, 200);
      const u = bearer(ws.token);
      t.is((await request(first.url, 'DELETE', `/api/v1/nodes/${gone.id}`, { headers: u })).status, 204);
      const fresh = await request(first.url, 'POST', `/api/v1/nodes/${node.id}/key`, { headers: u });
      // The notification is asynchronous: allow it a moment, below the cache's 10 s.
      const deadline = Date.now() + 5000;
      while ((await beat(second, node)).status !== 401 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      t.is((await beat(second, node)).status, 401);
      t.is((await beat(second, gone)).status, 401);
      t.is((await beat(second, { uuid: node.uuid, key: fresh.body.api_key })).status, 200);
      // The listening connections break (a database restart, a proxy timeout): they come back and go on.
      const listeners = async () =>
        (await first.db.query(`SELECT pid FROM pg_stat_activity WHERE query = 'LISTEN breakwater_node_credentials'`)).rows.map(
          (r) => r.pid,
        );
      const before = await listeners();
      t.is(before.length, 2);
      await first.db.query('SELECT pg_terminate_backend(pid) FROM unnest($1::int[]) AS pid', [before]);
      const back = Date.now() + 5000;
      let now = await listeners();
      while (Date.now() < back && (now.length < 2 || now.some((p) => before.includes(p)))) {
        await new Promise((r) => setTimeout(r, 100));
        now = await listeners();
      }
      t.is(now.length, 2);
      t.is((await beat(second, { uuid: node.uuid, key: fresh.body.api_key })).status, 200); // cached again
      const third = await request(first.url, 'POST', `/api/v1/nodes/${node.id}/key`, { headers: u });
      const until = Date.now() + 5000;
      while ((await beat(second, { uuid: node.uuid, key: fresh.body.api_key })).status !== 401 && Date.now() < until)
        await new Promise((r) => setTimeout(r, 20));
      t.is((await beat(second, { uuid: node.uuid, key: fresh.body.api_key })).status, 401);
      t.is((await beat(second, { uuid: node.uuid, key: third.body.api_key })).status, 200);
    } finally {
      await second.close();
    }
  });
}
