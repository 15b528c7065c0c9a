// The auth matrix on both databases: missing/wrong keys (same and other
// length), a key of node A with the UUID of node B, user tokens on agent
// routes and node keys on user routes; nothing is written for a refused request.
import test from 'ava';
import { splitToken } from '../../server/secrets.ts';
import { count, setup, withServers } from './_harness.ts';
import { agentHeaders, bearer, request } from '../helpers/http.ts';

const each = withServers(test);

const agentCalls: [string, string, unknown][] = [
  ['POST', '/api/v1/agent/heartbeat', { agent_version: 'x', uptime: 1, os: 'y' }],
  ['POST', '/api/v1/agent/metrics', { pps: 1, bps: 1 }],
  ['POST', '/api/v1/agent/incident', { attack_family: 'udp_flood', severity: 'low' }],
  ['POST', '/api/v1/agent/incident/resolve', { incident_id: 1 }],
  ['POST', '/api/v1/agent/commands/1/ack', { status: 'applied' }],
  ['GET', '/api/v1/agent/config', undefined],
];

async function nothingWritten(srv: Parameters<Parameters<typeof each>[1]>[1], nodeIds: number[]) {
  return (
    (await count(srv, 'SELECT count(*) FROM metrics_raw WHERE node_id = ANY($1)', [nodeIds])) +
    (await count(srv, 'SELECT count(*) FROM incidents WHERE node_id = ANY($1)', [nodeIds])) +
    (await count(srv, 'SELECT count(*) FROM nodes WHERE id = ANY($1) AND last_seen_at IS NOT NULL', [nodeIds]))
  );
}

each('agent routes: 401 / 403 matrix, and nothing is written', async (t, srv) => {
  const { ws, node: a } = await setup(srv);
  const b = await srv.admin.createNode(ws.id, 'node-b');
  const other = await setup(srv, 'other');
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
    ['key of A, uuid of B', agentHeaders({ uuid: b.uuid, key: a.key }), 403],
    ['key of another workspace node, uuid of A', agentHeaders({ uuid: a.uuid, key: other.node.key }), 403],
    ['user token on an agent route', agentHeaders({ uuid: a.uuid, key: ws.token }), 401],
  ];
  for (const [what, headers, status] of cases) {
    for (const [method, path, json] of agentCalls) {
      const r = await request(srv.url, method, path, { headers, json });
      t.is(r.status, status, `${what}: ${method} ${path}`);
      t.is(r.body.error.code, status === 401 ? 'unauthorized' : 'forbidden');
    }
  }
  t.is(await nothingWritten(srv, [a.id, b.id, other.node.id]), 0);
  // And the right credentials work.
  t.is((await request(srv.url, 'POST', '/api/v1/agent/heartbeat', { headers: agentHeaders(b), json: {} })).status, 200);
});

each('user routes and /api/metrics: tokens, node keys, ?token=', async (t, srv) => {
  const { ws, node } = await setup(srv);
  const paths = ['/api/v1/workspace', '/api/v1/nodes', '/api/v1/incidents', '/api/v1/mitigations', '/api/metrics'];
  for (const p of paths) {
    t.is((await request(srv.url, 'GET', p)).status, 401, `no token ${p}`);
    t.is((await request(srv.url, 'GET', p, { headers: bearer(node.key) })).status, 401, `node key ${p}`);
    t.is((await request(srv.url, 'GET', p, { headers: agentHeaders(node) })).status, 401, `agent headers ${p}`);
    t.is((await request(srv.url, 'GET', p, { headers: bearer(ws.token.slice(0, -1) + (ws.token.endsWith('A') ? 'B' : 'A')) })).status, 401, `wrong token ${p}`);
    t.is((await request(srv.url, 'GET', p, { headers: bearer(ws.token + 'x') })).status, 401, `longer token ${p}`);
    t.is((await request(srv.url, 'GET', p, { headers: bearer(ws.token) })).status, 200, `token ${p}`);
  }
  t.is((await request(srv.url, 'GET', `/api/metrics?token=${encodeURIComponent(ws.token)}`)).status, 200);
  t.is((await request(srv.url, 'GET', `/api/v1/nodes?token=${encodeURIComponent(ws.token)}`)).status, 401, '?token= is for /api/metrics only');
  // A refused create writes nothing.
  const before = await count(srv, 'SELECT count(*) FROM nodes');
  t.is((await request(srv.url, 'POST', '/api/v1/nodes', { headers: bearer(node.key), json: { name: 'x' } })).status, 401);
  t.is(await count(srv, 'SELECT count(*) FROM nodes'), before);
});

each('keys and tokens are stored only as hashes', async (t, srv) => {
  const { ws, node } = await setup(srv);
  const { rows } = await srv.db.query("SELECT key_hash, (SELECT string_agg(encode(secret_hash, 'hex'), ',') FROM tokens) AS th FROM nodes WHERE id = $1", [node.id]);
  t.is(rows[0].key_hash.length, 32);
  const dump = JSON.stringify(rows[0]) + JSON.stringify((await srv.db.query('SELECT * FROM tokens')).rows);
  t.false(dump.includes(node.key));
  t.false(dump.includes(splitToken(ws.token)!.secret));
});
