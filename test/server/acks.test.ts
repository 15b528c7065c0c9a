// POST /api/v1/agent/commands/ack (extension), on both databases: a batch's
// answers in one request, each taken as POST /commands/:id/ack takes it
// ('ok'), another node's command 'gone', one already answered otherwise
// 'conflict', a withdrawn one reported applied followed by its removal; bad
// bodies are 400 naming the field and write nothing.
import test from 'ava';
import { MAX_ACKS_PER_REQUEST } from '../../contract/limits.ts';
import { agentHeaders, bearer, request } from '../helpers/http.ts';
import { count, setup, withServers } from './_harness.ts';

const each = withServers(test);

each('a batch of answers: ok, gone, conflict, and a withdrawn one applied gets its removal', async (t, srv) => {
  const { ws, node } = await setup(srv, 'acks');
  const other = await srv.admin.createNode(ws.id, 'node-b', { ip: '192.0.2.11' });
  const h = agentHeaders(node);
  const u = bearer(ws.token);
  const rule = (source: string, nodeId = node.id) =>
    request(srv.url, 'POST', '/api/v1/mitigations', { headers: u, json: { node_id: nodeId, source, ttl_seconds: 600 } });
  const r1 = (await rule('203.0.113.1')).body;
  const r2 = (await rule('203.0.113.2')).body;
  const r3 = (await rule('203.0.113.3')).body;
  await rule('203.0.113.9', other.id);
  const pending = async () => (await request(srv.url, 'GET', '/api/v1/agent/config', { headers: h })).body.pending_commands as any[];
  const [c1, c2, c3] = await pending();
  const foreign = (await request(srv.url, 'GET', '/api/v1/agent/config', { headers: agentHeaders(other) })).body.pending_commands[0];
  // c2 answered before; r3 withdrawn after its command was delivered.
  t.is(
    (await request(srv.url, 'POST', `/api/v1/agent/commands/${c2.id}/ack`, { headers: h, json: { status: 'failed', reason: 'x' } })).status,
    200,
  );
  await request(srv.url, 'POST', `/api/v1/mitigations/${r3.id}/withdraw`, { headers: u, json: {} });

  const res = await request(srv.url, 'POST', '/api/v1/agent/commands/ack', {
    headers: h,
    json: {
      acks: [
        { id: c3.id, status: 'applied' },
        { id: c1.id, status: 'applied' },
        { id: c2.id, status: 'applied' },
        { id: foreign.id, status: 'applied' },
      ],
    },
  });
  t.is(res.status, 200);
  t.deepEqual(res.body.acks, [
    { id: c3.id, status: 'applied', result: 'ok' },
    { id: c1.id, status: 'applied', result: 'ok' },
    { id: c2.id, status: 'applied', result: 'conflict' },
    { id: foreign.id, status: 'applied', result: 'gone' },
  ]);
  t.is((await request(srv.url, 'GET', `/api/v1/mitigations/${r1.id}`, { headers: u })).body.state, 'active');
  t.is((await request(srv.url, 'GET', `/api/v1/mitigations/${r2.id}`, { headers: u })).body.state, 'failed');
  const left = await pending();
  t.deepEqual(
    left.map((c) => c.command),
    ['iptables -D INPUT -s 203.0.113.3 -j DROP'],
    'the withdrawn rule reported applied: one removal',
  );
  t.is(
    (await request(srv.url, 'GET', '/api/v1/agent/config', { headers: agentHeaders(other) })).body.pending_commands.length,
    1,
    "another node's command untouched",
  );
});

each('bad batches are 400 naming the field, and write nothing', async (t, srv) => {
  const { ws, node } = await setup(srv, 'acksbad');
  const h = agentHeaders(node);
  await request(srv.url, 'POST', '/api/v1/mitigations', {
    headers: bearer(ws.token),
    json: { node_id: node.id, source: '203.0.113.5', ttl_seconds: 600 },
  });
  const cmd = (await request(srv.url, 'GET', '/api/v1/agent/config', { headers: h })).body.pending_commands[0];
  const cases: [unknown, RegExp][] = [
    [{}, /acks/],
    [{ acks: [] }, /acks: at least one answer/],
    [{ acks: [{ id: cmd.id, status: 'done' }] }, /acks\.0\.status/],
    [{ acks: [{ id: 'x', status: 'applied' }] }, /acks\.0\.id/],
    [{ acks: [{ id: cmd.id, status: 'applied', reason: 'r'.repeat(1001) }] }, /acks\.0\.reason/],
    [
      {
        acks: [
          { id: cmd.id, status: 'applied' },
          { id: cmd.id, status: 'failed' },
        ],
      },
      /acks\.1\.id: command \d+ is answered twice/,
    ],
    [{ acks: Array.from({ length: MAX_ACKS_PER_REQUEST + 1 }, (_, i) => ({ id: i + 1, status: 'applied' })) }, /at most 256 answers/],
  ];
  for (const [json, field] of cases) {
    const res = await request(srv.url, 'POST', '/api/v1/agent/commands/ack', { headers: h, json });
    t.is(res.status, 400, JSON.stringify(json).slice(0, 80));
    t.regex(res.body.error.message, field);
  }
  t.is(await count(srv, "SELECT count(*) FROM node_commands WHERE node_id = $1 AND status <> 'pending'", [node.id]), 0);
});
