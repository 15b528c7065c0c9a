// User API on both databases: nodes, incidents (filters, pagination),
// mitigation rules and their states, and workspace isolation.
import test from 'ava';
import { splitToken } from '../../server/secrets.ts';
import { agentHeaders, bearer, request } from '../helpers/http.ts';
import { count, setup, withServers } from './_harness.ts';

const each = withServers(test);

each('nodes: create returns uuid and key once; list, get, threshold, delete; one error shape', async (t, srv) => {
  const { ws } = await setup(srv);
  const u = bearer(ws.token);
  const c = await request(srv.url, 'POST', '/api/v1/nodes', { headers: u, json: { name: 'edge-7', ip: '198.51.100.7' } });
  t.is(c.status, 201);
  t.regex(c.body.uuid, /^[0-9a-f-]{36}$/);
  t.true(c.body.api_key.length >= 40);
  const got = await request(srv.url, 'GET', `/api/v1/nodes/${c.body.id}`, { headers: u });
  t.is(got.body.status, 'offline');
  t.false(JSON.stringify(got.body).includes(c.body.api_key));
  t.false('key_hash' in got.body);
  const list = await request(srv.url, 'GET', '/api/v1/nodes', { headers: u });
  t.true(list.body.nodes.some((n: { uuid: string }) => n.uuid === c.body.uuid));
  t.false(JSON.stringify(list.body).includes(c.body.api_key));
  // The key works for the agent.
  t.is(
    (
      await request(srv.url, 'POST', '/api/v1/agent/heartbeat', {
        headers: agentHeaders({ uuid: c.body.uuid, key: c.body.api_key }),
        json: {},
      })
    ).status,
    200,
  );
  t.is((await request(srv.url, 'GET', `/api/v1/nodes/${c.body.id}`, { headers: u })).body.status, 'online');
  const th = await request(srv.url, 'PUT', `/api/v1/nodes/${c.body.id}/threshold`, { headers: u, json: { pps_threshold: 777 } });
  t.like(th.body, { pps_threshold: 777, effective_pps_threshold: 777 });
  t.like((await request(srv.url, 'PUT', `/api/v1/nodes/${c.body.id}/threshold`, { headers: u, json: { pps_threshold: null } })).body, {
    pps_threshold: null,
    effective_pps_threshold: 50000,
  });
  const bad = await request(srv.url, 'PUT', `/api/v1/nodes/${c.body.id}/threshold`, { headers: u, json: { pps_threshold: 0 } });
  t.is(bad.status, 400);
  t.regex(bad.body.error.message, /^pps_threshold:/);
  const dup = await request(srv.url, 'POST', '/api/v1/nodes', { headers: u, json: { name: 'edge-7' } });
  t.is(dup.status, 409);
  t.is((await request(srv.url, 'POST', '/api/v1/nodes', { headers: u, json: { ip: '1.2.3.4' } })).body.error.message, 'name: required');
  t.is((await request(srv.url, 'DELETE', `/api/v1/nodes/${c.body.id}`, { headers: u })).status, 204);
  const gone = await request(srv.url, 'GET', `/api/v1/nodes/${c.body.id}`, { headers: u });
  t.deepEqual(gone.body, { error: { code: 'not_found', message: 'node not found' } });
  t.is((await request(srv.url, 'GET', '/api/v1/nope', { headers: u })).body.error.code, 'not_found');
  t.is(
    (
      await request(srv.url, 'POST', '/api/v1/agent/heartbeat', {
        headers: agentHeaders({ uuid: c.body.uuid, key: c.body.api_key }),
        json: {},
      })
    ).status,
    401,
  );
});

each('incidents: filters and keyset pagination', async (t, srv) => {
  const { ws, node } = await setup(srv);
  const b = await srv.admin.createNode(ws.id, 'node-b');
  const open = async (n: { uuid: string; key: string }, family: string, severity: string) => {
    const r = await request(srv.url, 'POST', '/api/v1/agent/incident', {
      headers: agentHeaders(n),
      json: { attack_family: family, severity },
    });
    await request(srv.url, 'POST', '/api/v1/agent/incident/resolve', {
      headers: agentHeaders(n),
      json: { incident_id: r.body.incident_id },
    });
    return r.body.incident_id as number;
  };
  const ids: number[] = [];
  for (let i = 0; i < 5; i++) ids.push(await open(node, i % 2 ? 'syn_flood' : 'udp_flood', i < 2 ? 'high' : 'low'));
  ids.push(await open(b, 'dns_flood', 'critical'));
  await request(srv.url, 'POST', '/api/v1/agent/incident', {
    headers: agentHeaders(b),
    json: { attack_family: 'unknown', severity: 'medium' },
  });
  const u = bearer(ws.token);
  const q = async (query: string) => (await request(srv.url, 'GET', `/api/v1/incidents?${query}`, { headers: u })).body;
  t.is((await q('')).incidents.length, 7);
  t.is((await q(`node_id=${node.id}`)).incidents.length, 5);
  t.is((await q('attack_family=syn_flood')).incidents.length, 2);
  t.is((await q('severity=high')).incidents.length, 2);
  t.is((await q('status=open')).incidents.length, 1);
  t.is((await q(`since=${encodeURIComponent(new Date(Date.now() + 60_000).toISOString())}`)).incidents.length, 0);
  const p1 = await q('limit=3');
  t.is(p1.incidents.length, 3);
  const p2 = await q(`limit=3&before=${p1.next_before}`);
  const p3 = await q(`limit=3&before=${p2.next_before}`);
  const seen = [...p1.incidents, ...p2.incidents, ...p3.incidents].map((i: { id: number }) => i.id);
  t.is(new Set(seen).size, 7);
  t.is(p3.next_before, null);
  const bad = await request(srv.url, 'GET', '/api/v1/incidents?limit=9999', { headers: u });
  t.is(bad.status, 400);
  t.regex(bad.body.error.message, /^limit:/);
});

each('mitigation rules: one node or every node, TTL, states, withdraw', async (t, srv) => {
  const { ws, node } = await setup(srv);
  const b = await srv.admin.createNode(ws.id, 'node-b');
  const u = bearer(ws.token);
  const all = await request(srv.url, 'POST', '/api/v1/mitigations', {
    headers: u,
    json: { source: '2001:db8::/48', protocol: 'tcp', port: 443, ttl_seconds: 3600, reason: 'syn flood' },
  });
  t.is(all.status, 201);
  t.like(all.body, { scope: 'workspace', state: 'pending' });
  t.is(all.body.nodes.length, 2);
  const cmdOf = async (n: { uuid: string; key: string }) =>
    (await request(srv.url, 'GET', '/api/v1/agent/config', { headers: agentHeaders(n) })).body.pending_commands;
  const [ca] = await cmdOf(node);
  const [cb] = await cmdOf(b);
  t.is(ca.command, 'ip6tables -I INPUT -s 2001:db8::/48 -p tcp --dport 443 -j DROP');
  await request(srv.url, 'POST', `/api/v1/agent/commands/${ca.id}/ack`, { headers: agentHeaders(node), json: { status: 'applied' } });
  t.is((await request(srv.url, 'GET', `/api/v1/mitigations/${all.body.id}`, { headers: u })).body.state, 'pending');
  // A node cannot answer another node's command.
  t.is(
    (await request(srv.url, 'POST', `/api/v1/agent/commands/${cb.id}/ack`, { headers: agentHeaders(node), json: { status: 'applied' } }))
      .status,
    404,
  );
  await request(srv.url, 'POST', `/api/v1/agent/commands/${cb.id}/ack`, {
    headers: agentHeaders(b),
    json: { status: 'failed', reason: 'map full' },
  });
  const failed = await request(srv.url, 'GET', `/api/v1/mitigations/${all.body.id}`, { headers: u });
  t.is(failed.body.state, 'failed');
  t.like(
    failed.body.nodes.find((n: { node_id: number }) => n.node_id === b.id),
    { state: 'failed', reason: 'map full' },
  );

  const one = await request(srv.url, 'POST', '/api/v1/mitigations', {
    headers: u,
    json: { node_id: node.id, source: '192.0.2.1', ttl_seconds: 1 },
  });
  t.is(one.body.nodes.length, 1);
  const pending = await request(srv.url, 'POST', '/api/v1/mitigations', {
    headers: u,
    json: { node_id: node.id, source: '192.0.2.2', ttl_seconds: 60 },
  });
  await request(srv.url, 'POST', `/api/v1/mitigations/${pending.body.id}/withdraw`, { headers: u });
  await new Promise((r) => setTimeout(r, 1100));
  const states = async (state: string) =>
    (await request(srv.url, 'GET', `/api/v1/mitigations?state=${state}`, { headers: u })).body.rules.map((r: { id: number }) => r.id);
  t.deepEqual(await states('expired'), [one.body.id]);
  t.deepEqual(await states('withdrawn'), [pending.body.id]);
  t.deepEqual(await states('failed'), [all.body.id]);
  // Expired and withdrawn-before-delivery rules are not delivered.
  t.deepEqual(
    (await cmdOf(node)).map((c: { command: string }) => c.command),
    [],
  );
  const bad = [
    [{ source: 'example.com', ttl_seconds: 5 }, /^source:/],
    [{ source: '10.0.0.0/33', ttl_seconds: 5 }, /^source:/],
    // What a default agent would refuse is refused here, with the agent's reason.
    [
      { source: '10.0.0.1/16', ttl_seconds: 5 },
      /^source: "10\.0\.0\.1\/16" has host bits set: write 10\.0\.0\.0\/16, or \/32 for the single address$/,
    ],
    [{ source: '10.0.0.0/8', ttl_seconds: 5 }, /^source: \/8 is broader than the policy allows \(at most \/16 for IPv4\)$/],
    [{ source: '2001:db8::/32', ttl_seconds: 5 }, /^source: \/32 is broader than the policy allows \(at most \/48 for IPv6\)$/],
    [{ source: '010.0.0.1', ttl_seconds: 5 }, /^source: "010\.0\.0\.1" is not a valid IPv4 or IPv6 address$/],
    [{ source: '::ffff:10.0.0.1', ttl_seconds: 5 }, /^source: ::ffff:10\.0\.0\.1 is IPv4-mapped/],
    [{ source: '10.0.0.1', ttl_seconds: 86_401 }, /^ttl_seconds: ttl_seconds 86401 exceeds the maximum of 86400$/],
    [
      { source: '127.0.0.1', ttl_seconds: 5 },
      /^source: 127\.0\.0\.1\/32 is in 127\.0\.0\.0\/8 \(loopback\): no rule may drop special-purpose addresses$/,
    ],
    [{ source: '224.0.0.0/16', ttl_seconds: 5 }, /^source: .*\(multicast\)/],
    [{ source: 'fe80::/64', ttl_seconds: 5 }, /^source: .*\(link-local\)/],
    [{ source: '255.255.255.255', ttl_seconds: 5 }, /^source: .*\(broadcast\)/],
    // The node's own address (setup() gives node-a 192.0.2.10), for it and for the whole workspace.
    [{ node_id: node.id, source: '192.0.2.10', ttl_seconds: 5 }, /^source: 192\.0\.2\.10\/32 would drop the host address 192\.0\.2\.10$/],
    [{ source: '192.0.2.0/24', ttl_seconds: 5 }, /^source: 192\.0\.2\.0\/24 would drop the host address 192\.0\.2\.10$/],
    [{ source: '10.0.0.1', ttl_seconds: 0 }, /^ttl_seconds:/],
    [{ source: '10.0.0.1', ttl_seconds: 5, port: 80 }, /^port:/],
    [{ source: '10.0.0.1', ttl_seconds: 5, protocol: 'gre' }, /^protocol:/],
  ] as const;
  for (const [json, msg] of bad) {
    const r = await request(srv.url, 'POST', '/api/v1/mitigations', { headers: u, json });
    t.is(r.status, 400);
    t.regex(r.body.error.message, msg);
  }
});

each('mitigation rules: a workspace-wide rule in force reaches nodes created after it; a refused ack writes nothing', async (t, srv) => {
  const { ws, node } = await setup(srv);
  const u = bearer(ws.token);
  const make = (source: string, ttl_seconds = 600) =>
    request(srv.url, 'POST', '/api/v1/mitigations', { headers: u, json: { source, ttl_seconds } });
  const live = await make('198.51.100.0/24');
  const nodeOnly = await request(srv.url, 'POST', '/api/v1/mitigations', {
    headers: u,
    json: { node_id: node.id, source: '198.51.100.9', ttl_seconds: 600 },
  });
  const withdrawn = await make('198.51.101.0/24');
  await request(srv.url, 'POST', `/api/v1/mitigations/${withdrawn.body.id}/withdraw`, { headers: u });
  const expired = await make('198.51.102.0/24', 1);
  await new Promise((r) => setTimeout(r, 1100));
  void expired;
  // One node created through the API, one from the admin path (the CLI's).
  const viaApi = (await request(srv.url, 'POST', '/api/v1/nodes', { headers: u, json: { name: 'late-api' } })).body;
  const viaAdmin = await srv.admin.createNode(ws.id, 'late-admin');
  for (const late of [{ uuid: viaApi.uuid, key: viaApi.api_key }, viaAdmin]) {
    const cmds = (await request(srv.url, 'GET', '/api/v1/agent/config', { headers: agentHeaders(late) })).body.pending_commands;
    t.deepEqual(
      cmds.map((c: { command: string }) => c.command),
      ['iptables -I INPUT -s 198.51.100.0/24 -j DROP'],
    );
  }
  const rule = await request(srv.url, 'GET', `/api/v1/mitigations/${live.body.id}`, { headers: u });
  t.deepEqual(
    rule.body.nodes.map((n: { node_id: number }) => n.node_id),
    [node.id, viaApi.id, viaAdmin.id],
  );
  t.is((await request(srv.url, 'GET', `/api/v1/mitigations/${nodeOnly.body.id}`, { headers: u })).body.nodes.length, 1);

  // The first answer is stored; a contradicting one is 409 and leaves the row as it was (same xmin: not even rewritten).
  const [cmd] = (await request(srv.url, 'GET', '/api/v1/agent/config', { headers: agentHeaders(viaAdmin) })).body.pending_commands;
  const ack = (status: string, reason?: string) =>
    request(srv.url, 'POST', `/api/v1/agent/commands/${cmd.id}/ack`, { headers: agentHeaders(viaAdmin), json: { status, reason } });
  t.is((await ack('applied')).status, 200);
  const row = async () =>
    (await srv.db.query('SELECT xmin::text AS x, status, reason, acked_at FROM node_commands WHERE id = $1', [cmd.id])).rows[0];
  const before = await row();
  const refused = await ack('failed', 'changed my mind');
  t.is(refused.status, 409);
  t.is((await ack('applied')).status, 200); // a repeat is fine, and writes nothing either
  t.deepEqual(await row(), before);
  t.is(before.status, 'applied');
});

each('workspace isolation: a token never sees another workspace', async (t, srv) => {
  const a = await setup(srv, 'a');
  const b = await setup(srv, 'b');
  const inc = await request(srv.url, 'POST', '/api/v1/agent/incident', {
    headers: agentHeaders(b.node),
    json: { attack_family: 'udp_flood', severity: 'low' },
  });
  await request(srv.url, 'POST', '/api/v1/agent/metrics', { headers: agentHeaders(b.node), json: { pps: 31337, bps: 1 } });
  const ruleB = await request(srv.url, 'POST', '/api/v1/mitigations', {
    headers: bearer(b.ws.token),
    json: { source: '10.9.9.9', ttl_seconds: 60 },
  });
  const ua = bearer(a.ws.token);
  const ids = (await request(srv.url, 'GET', '/api/v1/nodes', { headers: ua })).body.nodes.map((n: { id: number }) => n.id);
  t.deepEqual(ids, [a.node.id]);
  t.is((await request(srv.url, 'GET', `/api/v1/nodes/${b.node.id}`, { headers: ua })).status, 404);
  t.is((await request(srv.url, 'DELETE', `/api/v1/nodes/${b.node.id}`, { headers: ua })).status, 404);
  t.is((await request(srv.url, 'PUT', `/api/v1/nodes/${b.node.id}/threshold`, { headers: ua, json: { pps_threshold: 1 } })).status, 404);
  t.is((await request(srv.url, 'GET', `/api/v1/nodes/${b.node.id}/metrics`, { headers: ua })).status, 404);
  t.deepEqual((await request(srv.url, 'GET', '/api/v1/incidents', { headers: ua })).body.incidents, []);
  t.is((await request(srv.url, 'GET', `/api/v1/incidents/${inc.body.incident_id}`, { headers: ua })).status, 404);
  t.deepEqual((await request(srv.url, 'GET', '/api/v1/mitigations', { headers: ua })).body.rules, []);
  t.is((await request(srv.url, 'GET', `/api/v1/mitigations/${ruleB.body.id}`, { headers: ua })).status, 404);
  t.is((await request(srv.url, 'POST', `/api/v1/mitigations/${ruleB.body.id}/withdraw`, { headers: ua })).status, 404);
  t.is(
    (
      await request(srv.url, 'POST', '/api/v1/mitigations', {
        headers: ua,
        json: { node_id: b.node.id, source: '10.0.0.1', ttl_seconds: 5 },
      })
    ).status,
    404,
  );
  // A workspace-wide rule of A reaches only A's nodes.
  await request(srv.url, 'POST', '/api/v1/mitigations', { headers: ua, json: { source: '10.1.1.1', ttl_seconds: 60 } });
  t.is(
    await count(
      srv,
      "SELECT count(*) FROM node_commands c JOIN mitigation_rules r ON r.id = c.rule_id WHERE c.node_id = $1 AND r.source = '10.1.1.1'",
      [b.node.id],
    ),
    0,
  );
  const metrics = (await request(srv.url, 'GET', '/api/metrics', { headers: ua })).body as string;
  t.false(metrics.includes('31337'));
  t.false(metrics.includes(b.ws.uuid));
  t.regex(metrics, new RegExp(`breakwater_nodes_total\\{tenant_id="${a.ws.uuid}"\\} 1`));
  t.deepEqual((await request(srv.url, 'GET', '/api/v1/workspace', { headers: ua })).body.uuid, a.ws.uuid);
});

each('tokens: create, list without secrets, revoke', async (t, srv) => {
  const { ws } = await setup(srv);
  const u = bearer(ws.token);
  const c = await request(srv.url, 'POST', '/api/v1/tokens', { headers: u, json: { name: 'grafana' } });
  t.is(c.status, 201);
  t.is((await request(srv.url, 'GET', '/api/v1/nodes', { headers: bearer(c.body.token) })).status, 200);
  const list = await request(srv.url, 'GET', '/api/v1/tokens', { headers: u });
  t.is(list.body.tokens.length, 2);
  t.false(JSON.stringify(list.body).includes(splitToken(c.body.token)!.secret));
  t.is((await request(srv.url, 'DELETE', `/api/v1/tokens/${c.body.id}`, { headers: u })).status, 204);
  t.is((await request(srv.url, 'GET', '/api/v1/nodes', { headers: bearer(c.body.token) })).status, 401);
});
