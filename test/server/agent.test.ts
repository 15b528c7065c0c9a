// Agent API (SPEC.md section 1) on both databases: heartbeat, metrics (one,
// batch, MessagePack), incidents, config with baseline and commands, limits.
import test from 'ava';
import { agentHeaders, bearer, request } from '../helpers/http.ts';
import { count, setup, withServers } from './_harness.ts';

const each = withServers(test);

each('heartbeat records the agent and makes the node online', async (t, srv) => {
  const { ws, node } = await setup(srv);
  const r = await request(srv.url, 'POST', '/api/v1/agent/heartbeat', {
    headers: agentHeaders(node),
    json: { agent_version: '0.1.0', uptime: 42, os: 'Debian 12' },
  });
  t.is(r.status, 200);
  const n = await request(srv.url, 'GET', `/api/v1/nodes/${node.id}`, { headers: bearer(ws.token) });
  t.is(n.body.agent_version, '0.1.0');
  t.is(n.body.uptime, 42);
  t.is(n.body.os, 'Debian 12');
  t.is(n.body.status, 'online');
  // Online means heard from (heartbeat or sample) within 90 s.
  const status = async () => (await request(srv.url, 'GET', `/api/v1/nodes/${node.id}`, { headers: bearer(ws.token) })).body.status;
  await srv.db.query(`UPDATE nodes SET last_seen_at = now() - interval '80 seconds' WHERE id = $1`, [node.id]);
  t.is(await status(), 'online');
  await srv.db.query(`UPDATE nodes SET last_seen_at = now() - interval '100 seconds' WHERE id = $1`, [node.id]);
  t.is(await status(), 'offline');
  t.is((await request(srv.url, 'POST', '/api/v1/agent/metrics', { headers: agentHeaders(node), json: { pps: 1, bps: 8 } })).status, 200);
  t.is(await status(), 'online');
  await srv.db.query(`UPDATE node_last_sample SET received_at = now() - interval '100 seconds' WHERE node_id = $1`, [node.id]);
  t.is(await status(), 'offline');
});

each('metrics: one sample, a batch array and a wrapped batch are all stored', async (t, srv) => {
  const { node } = await setup(srv);
  const h = agentHeaders(node);
  const t0 = Date.now() - 60_000;
  const at = (i: number) => new Date(t0 + i * 1000).toISOString();
  t.is(
    (
      await request(srv.url, 'POST', '/api/v1/agent/metrics', {
        headers: h,
        json: { pps: 100, bps: 8000, tcp_pct: 50.5, udp_pct: 40, icmp_pct: 9.5, conn_count: 7, recorded_at: at(0) },
      })
    ).status,
    200,
  );
  const batch = [1, 2, 3].map((i) => ({ pps: 100 + i, bps: 8000, recorded_at: at(i) }));
  const r = await request(srv.url, 'POST', '/api/v1/agent/metrics', { headers: h, json: batch });
  t.is(r.body.accepted, 3);
  await request(srv.url, 'POST', '/api/v1/agent/metrics', { headers: h, json: { samples: [{ pps: 200, bps: 1, recorded_at: at(4) }] } });
  t.is(await count(srv, 'SELECT count(*) FROM metrics_raw WHERE node_id = $1', [node.id]), 5);
  const { rows } = await srv.db.query('SELECT pps, tcp_pct, conn_count FROM metrics_raw WHERE node_id = $1 ORDER BY recorded_at LIMIT 1', [
    node.id,
  ]);
  t.deepEqual(rows[0], { pps: 100, tcp_pct: 50.5, conn_count: 7 });
  const last = await srv.db.query('SELECT pps FROM node_last_sample WHERE node_id = $1', [node.id]);
  t.is(last.rows[0].pps, 200);
  // A retried sample (same time) is not stored twice.
  await request(srv.url, 'POST', '/api/v1/agent/metrics', { headers: h, json: { pps: 999, bps: 1, recorded_at: at(4) } });
  t.is(await count(srv, 'SELECT count(*) FROM metrics_raw WHERE node_id = $1', [node.id]), 5);
});

each('concurrent metrics requests are all stored (group commit)', async (t, srv) => {
  const { node } = await setup(srv);
  const t0 = Date.now() - 3600_000;
  await Promise.all(
    Array.from({ length: 200 }, (_, i) =>
      request(srv.url, 'POST', '/api/v1/agent/metrics', {
        headers: agentHeaders(node),
        json: { pps: i, bps: i, recorded_at: new Date(t0 + i * 1000).toISOString() },
      }).then((r) => t.is(r.status, 200)),
    ),
  );
  t.is(await count(srv, 'SELECT count(*) FROM metrics_raw WHERE node_id = $1', [node.id]), 200);
});

each('a bad body is 400 naming the field, and nothing is stored', async (t, srv) => {
  const { node } = await setup(srv);
  const h = agentHeaders(node);
  const cases: [unknown, string][] = [
    [{ pps: 'many', bps: 1 }, 'pps'],
    [{ pps: 1 }, 'bps'],
    [{ pps: 1, bps: 1, tcp_pct: 150 }, 'tcp_pct'],
    [{ pps: -1, bps: 1 }, 'pps'],
    [{ pps: 1.5, bps: 1 }, 'pps'],
    [{ pps: 1, bps: 1, recorded_at: 'yesterday' }, 'recorded_at'],
    [
      [
        { pps: 1, bps: 1 },
        { pps: 1, bps: 'x' },
      ],
      '1.bps',
    ],
  ];
  for (const [body, field] of cases) {
    const r = await request(srv.url, 'POST', '/api/v1/agent/metrics', { headers: h, json: body });
    t.is(r.status, 400, JSON.stringify(body));
    t.is(r.body.error.code, 'validation_failed');
    t.true(r.body.error.message.startsWith(`${field}:`), `${r.body.error.message} should name ${field}`);
  }
  const inc = await request(srv.url, 'POST', '/api/v1/agent/incident', { headers: h, json: { attack_family: 'smurf', severity: 'high' } });
  t.is(inc.status, 400);
  t.regex(inc.body.error.message, /^attack_family:/);
  const bad = await request(srv.url, 'POST', '/api/v1/agent/metrics', {
    headers: { ...h, 'content-type': 'application/json' },
    raw: '{"pps":',
  });
  t.is(bad.status, 400);
  t.deepEqual(Object.keys(bad.body), ['error']);
  t.is(
    (await request(srv.url, 'POST', '/api/v1/agent/metrics', { headers: { ...h, 'content-type': 'text/plain' }, raw: 'pps=1' })).status,
    415,
  );
  t.is(await count(srv, 'SELECT count(*) FROM metrics_raw WHERE node_id = $1', [node.id]), 0);
  t.is(await count(srv, 'SELECT count(*) FROM incidents WHERE node_id = $1', [node.id]), 0);
});

each('body limits on every agent route: 413 and nothing stored', async (t, srv) => {
  const { node } = await setup(srv);
  const h = agentHeaders(node);
  const big = (n: number) => ({ agent_version: 'x'.repeat(n), os: 'y' });
  t.is((await request(srv.url, 'POST', '/api/v1/agent/heartbeat', { headers: h, json: big(5000) })).status, 413);
  const samples = Array.from({ length: 30000 }, () => ({ pps: 123456789, bps: 123456789, tcp_pct: 33.3 }));
  const r = await request(srv.url, 'POST', '/api/v1/agent/metrics', { headers: h, json: samples });
  t.is(r.status, 413);
  t.is(r.body.error.code, 'payload_too_large');
  t.is(
    (
      await request(srv.url, 'POST', '/api/v1/agent/incident', {
        headers: h,
        json: { attack_family: 'unknown', severity: 'low', ioc_matches: ['z'.repeat(300_000)] },
      })
    ).status,
    413,
  );
  t.is(
    (await request(srv.url, 'GET', '/api/v1/agent/config', { headers: { ...h, 'content-type': 'application/json' }, raw: '{"a":1}' }))
      .status,
    413,
  );
  t.is(
    (await request(srv.url, 'POST', '/api/v1/agent/commands/1/ack', { headers: h, json: { status: 'failed', reason: 'r'.repeat(5000) } }))
      .status,
    413,
  );
  t.is(
    (await request(srv.url, 'POST', '/api/v1/agent/incident/resolve', { headers: h, json: { incident_id: 1, pad: 'p'.repeat(5000) } }))
      .status,
    413,
  );
  const n = await srv.db.query('SELECT last_seen_at FROM nodes WHERE id = $1', [node.id]);
  t.is(n.rows[0].last_seen_at, null);
  t.is(await count(srv, 'SELECT count(*) FROM metrics_raw WHERE node_id = $1', [node.id]), 0);
  t.is(await count(srv, 'SELECT count(*) FROM incidents WHERE node_id = $1', [node.id]), 0);
});

each('MessagePack round trip: same fields in, Accept-driven reply out', async (t, srv) => {
  const { node } = await setup(srv);
  const h = agentHeaders(node);
  const at = new Date(Date.now() - 5000);
  const r = await request(srv.url, 'POST', '/api/v1/agent/metrics', {
    headers: h,
    msgpack: { pps: 4242, bps: 99, udp_pct: 12.5, conn_count: 3, recorded_at: at.toISOString() },
    accept: 'application/msgpack',
  });
  t.is(r.status, 200);
  t.is(r.headers.get('content-type'), 'application/msgpack');
  t.deepEqual(r.body, { ok: true, accepted: 1 });
  const { rows } = await srv.db.query('SELECT pps, bps, udp_pct, conn_count, recorded_at FROM metrics_raw WHERE node_id = $1', [node.id]);
  t.deepEqual(rows[0], { pps: 4242, bps: 99, udp_pct: 12.5, conn_count: 3, recorded_at: at });
  // A MessagePack body may be answered in JSON, and the reverse.
  const cfg = await request(srv.url, 'GET', '/api/v1/agent/config', { headers: h, accept: 'application/msgpack' });
  t.is(cfg.headers.get('content-type'), 'application/msgpack');
  t.is(cfg.body.node_id, node.id);
  const inc = await request(srv.url, 'POST', '/api/v1/agent/incident', {
    headers: h,
    msgpack: { attack_family: 'syn_flood', severity: 'critical', top_src_ips: [{ ip: '1.2.3.4', count: 5 }] },
    accept: 'application/json',
  });
  t.is(inc.status, 201);
  t.regex(inc.headers.get('content-type')!, /json/);
  const bad = await request(srv.url, 'POST', '/api/v1/agent/metrics', {
    headers: h,
    msgpack: { pps: 'x', bps: 1 },
    accept: 'application/msgpack',
  });
  t.is(bad.status, 400);
  t.regex(bad.body.error.message, /^pps:/);
});

each('incident: open, update (peaks kept), resolve, timeline', async (t, srv) => {
  const { ws, node } = await setup(srv);
  const h = agentHeaders(node);
  const open = await request(srv.url, 'POST', '/api/v1/agent/incident', {
    headers: h,
    json: {
      attack_family: 'udp_flood',
      severity: 'high',
      peak_pps: 90000,
      protocol_breakdown: { udp: 97.1, tcp: 2.9 },
      geo_breakdown: { US: 10 },
    },
  });
  t.is(open.status, 201);
  const id = open.body.incident_id;
  const upd = await request(srv.url, 'POST', '/api/v1/agent/incident', {
    headers: h,
    json: { attack_family: 'multi_vector', severity: 'critical', peak_pps: 50000, spoofing_detected: true },
  });
  t.is(upd.status, 200);
  t.is(upd.body.incident_id, id);
  const nodeView = await request(srv.url, 'GET', `/api/v1/nodes/${node.id}`, { headers: bearer(ws.token) });
  t.is(nodeView.body.status, 'under_attack');
  const res = await request(srv.url, 'POST', '/api/v1/agent/incident/resolve', { headers: h, json: { incident_id: id } });
  t.is(res.status, 200);
  const got = await request(srv.url, 'GET', `/api/v1/incidents/${id}`, { headers: bearer(ws.token) });
  t.is(got.body.status, 'resolved');
  t.is(got.body.peak_pps, 90000);
  t.is(got.body.severity, 'critical');
  t.is(got.body.spoofing_detected, true);
  t.deepEqual(got.body.details.protocol_breakdown, { udp: 97.1, tcp: 2.9 });
  t.deepEqual(
    got.body.timeline.map((e: { kind: string }) => e.kind),
    ['opened', 'updated', 'resolved'],
  );
  // After resolution a new report opens a new incident; updating the resolved one is refused.
  const again = await request(srv.url, 'POST', '/api/v1/agent/incident', {
    headers: h,
    json: { attack_family: 'icmp_flood', severity: 'low' },
  });
  t.is(again.status, 201);
  t.not(again.body.incident_id, id);
  const stale = await request(srv.url, 'POST', '/api/v1/agent/incident', {
    headers: h,
    json: { incident_id: id, attack_family: 'icmp_flood', severity: 'low' },
  });
  t.is(stale.status, 409);
});

each("incident: simultaneous first reports open one incident; another node's incident is 404", async (t, srv) => {
  const { ws, node } = await setup(srv);
  const h = agentHeaders(node);
  const all = await Promise.all(
    Array.from({ length: 8 }, (_, i) =>
      request(srv.url, 'POST', '/api/v1/agent/incident', {
        headers: h,
        json: { attack_family: 'udp_flood', severity: 'high', peak_pps: 1000 * (i + 1) },
      }),
    ),
  );
  t.deepEqual(all.map((r) => r.status).sort(), [200, 200, 200, 200, 200, 200, 200, 201]);
  t.is(new Set(all.map((r) => r.body.incident_id)).size, 1);
  const id = all[0]!.body.incident_id;
  t.is(await count(srv, 'SELECT count(*) FROM incidents WHERE node_id = $1', [node.id]), 1);
  t.is((await request(srv.url, 'GET', `/api/v1/incidents/${id}`, { headers: bearer(ws.token) })).body.peak_pps, 8000);
  // Node B can neither update nor resolve node A's incident, and learns nothing of it.
  const b = agentHeaders(await srv.admin.createNode(ws.id, 'node-b'));
  t.is(
    (
      await request(srv.url, 'POST', '/api/v1/agent/incident', {
        headers: b,
        json: { incident_id: id, attack_family: 'unknown', severity: 'low' },
      })
    ).status,
    404,
  );
  t.is((await request(srv.url, 'POST', '/api/v1/agent/incident/resolve', { headers: b, json: { incident_id: id } })).status, 404);
  const got = await request(srv.url, 'GET', `/api/v1/incidents/${id}`, { headers: bearer(ws.token) });
  t.like(got.body, { status: 'open', attack_family: 'udp_flood', severity: 'high' });
});

each('config: threshold, baseline, IOC patterns, pending commands until acknowledged', async (t, srv) => {
  const { ws, node } = await setup(srv);
  const h = agentHeaders(node);
  const u = bearer(ws.token);
  let cfg = await request(srv.url, 'GET', '/api/v1/agent/config', { headers: h });
  t.like(cfg.body, { node_id: node.id, pps_threshold: 50000, baseline: null, ioc_patterns: [], pending_commands: [] });

  await request(srv.url, 'PATCH', '/api/v1/workspace', {
    headers: u,
    json: {
      default_pps_threshold: 70000,
      ioc_patterns: [{ attack_name: 'memcached stats', attack_family: 'udp_flood', text: 'stats', protocol: 'udp', port: 11211 }],
    },
  });
  t.is((await request(srv.url, 'GET', '/api/v1/agent/config', { headers: h })).body.pps_threshold, 70000);
  t.is((await request(srv.url, 'PUT', `/api/v1/nodes/${node.id}/threshold`, { headers: u, json: { pps_threshold: 12345 } })).status, 200);

  // Baseline: samples outside incidents only.
  const now = Date.now();
  const samples = Array.from({ length: 100 }, (_, i) => ({
    pps: i + 1,
    bps: 1,
    recorded_at: new Date(now - 200_000 + i * 1000).toISOString(),
  }));
  await request(srv.url, 'POST', '/api/v1/agent/metrics', { headers: h, json: samples });
  await srv.runMaintenance();
  cfg = await request(srv.url, 'GET', '/api/v1/agent/config', { headers: h });
  t.is(cfg.body.pps_threshold, 12345);
  t.deepEqual(cfg.body.ioc_patterns, [
    { attack_name: 'memcached stats', attack_family: 'udp_flood', text: 'stats', protocol: 'udp', port: 11211 },
  ]);
  t.like(cfg.body.baseline, { mean_pps: 51, p95_pps: 95, p99_pps: 99, samples: 100 });

  const rule = await request(srv.url, 'POST', '/api/v1/mitigations', {
    headers: u,
    json: { node_id: node.id, source: '203.0.113.0/24', protocol: 'udp', port: 53, ttl_seconds: 600 },
  });
  t.is(rule.status, 201);
  cfg = await request(srv.url, 'GET', '/api/v1/agent/config', { headers: h });
  t.is(cfg.body.pending_commands.length, 1);
  const cmd = cfg.body.pending_commands[0];
  t.is(cmd.command, 'iptables -I INPUT -s 203.0.113.0/24 -p udp --dport 53 -j DROP');
  t.like(cmd.rule, { op: 'add', source: '203.0.113.0/24', protocol: 'udp', port: 53 });
  // Delivered again until acknowledged.
  t.is((await request(srv.url, 'GET', '/api/v1/agent/config', { headers: h })).body.pending_commands.length, 1);
  const ack = await request(srv.url, 'POST', `/api/v1/agent/commands/${cmd.id}/ack`, { headers: h, json: { status: 'applied' } });
  t.is(ack.status, 200);
  t.deepEqual((await request(srv.url, 'GET', '/api/v1/agent/config', { headers: h })).body.pending_commands, []);
  t.is((await request(srv.url, 'GET', `/api/v1/mitigations/${rule.body.id}`, { headers: u })).body.state, 'active');
  // Withdrawal sends a removal command.
  await request(srv.url, 'POST', `/api/v1/mitigations/${rule.body.id}/withdraw`, { headers: u, json: {} });
  const rm = (await request(srv.url, 'GET', '/api/v1/agent/config', { headers: h })).body.pending_commands;
  t.is(rm.length, 1);
  t.is(rm[0].command, 'iptables -D INPUT -s 203.0.113.0/24 -p udp --dport 53 -j DROP');
  t.is((await request(srv.url, 'POST', `/api/v1/agent/commands/${rm[0].id}/ack`, { headers: h, json: { status: 'applied' } })).status, 200);
  t.is((await request(srv.url, 'GET', `/api/v1/mitigations/${rule.body.id}`, { headers: u })).body.state, 'withdrawn');
  // Delivered, withdrawn before the agent answered, then reported applied three times at once:
  // the rule is in place on the node, so exactly one removal follows.
  const late = await request(srv.url, 'POST', '/api/v1/mitigations', {
    headers: u,
    json: { node_id: node.id, source: '198.51.100.77', ttl_seconds: 600 },
  });
  const [delivered] = (await request(srv.url, 'GET', '/api/v1/agent/config', { headers: h })).body.pending_commands;
  await request(srv.url, 'POST', `/api/v1/mitigations/${late.body.id}/withdraw`, { headers: u, json: {} });
  const acks = await Promise.all(
    [1, 2, 3].map(() =>
      request(srv.url, 'POST', `/api/v1/agent/commands/${delivered.id}/ack`, { headers: h, json: { status: 'applied' } }),
    ),
  );
  t.deepEqual(
    acks.map((a) => a.status),
    [200, 200, 200],
  );
  t.is(await count(srv, "SELECT count(*) FROM node_commands WHERE rule_id = $1 AND op = 'remove'", [late.body.id]), 1);
  t.deepEqual(
    (await request(srv.url, 'GET', '/api/v1/agent/config', { headers: h })).body.pending_commands.map(
      (c: { command: string }) => c.command,
    ),
    ['iptables -D INPUT -s 198.51.100.77 -j DROP'],
  );
  t.is(
    (await request(srv.url, 'POST', `/api/v1/agent/commands/${delivered.id}/ack`, { headers: h, json: { status: 'failed' } })).status,
    409,
  );
});

each('incident extensions: sub-type, vectors, histograms, counts and IOC matches are stored and come back', async (t, srv) => {
  const { ws, node } = await setup(srv);
  const ext = {
    attack_subtype: 'memcached_reflection',
    vectors: [{ family: 'udp_flood', subtype: 'memcached_reflection', pps: 40_000 }],
    length_histogram: [0, 0, 0, 0, 0, 900, 100],
    ttl_histogram: { '52': 700, '53': 300 },
    fragments: 7_500,
    malformed: 3,
    dropped: 1_000,
    geo_spoofed: false,
    sampled_packets: 1_000,
    geo_breakdown: { US: 600, DE: 400 },
    ioc_matches: [{ attack_name: 'memcached response', attack_family: 'udp_flood', count: 640, source: 'builtin' }],
    top_src_ips: [{ ip: '198.19.0.1', count: 10, normal: true }],
  };
  const r = await request(srv.url, 'POST', '/api/v1/agent/incident', {
    headers: agentHeaders(node),
    json: { attack_family: 'udp_flood', severity: 'high', ...ext },
  });
  t.is(r.status, 201, JSON.stringify(r.body));
  const inc = (await request(srv.url, 'GET', `/api/v1/incidents/${r.body.incident_id}`, { headers: bearer(ws.token) })).body;
  t.deepEqual(inc.details, ext);
  const bad = await request(srv.url, 'POST', '/api/v1/agent/incident', {
    headers: agentHeaders(node),
    json: { attack_family: 'udp_flood', severity: 'high', ttl_histogram: { '256': 1 } },
  });
  t.is(bad.status, 400);
  t.regex(bad.body.error.message, /^ttl_histogram/);
  await request(srv.url, 'POST', '/api/v1/agent/metrics', {
    headers: agentHeaders(node),
    json: { pps: 5, bps: 40, fragments_pps: 2, dropped_pps: 3 },
  });
  const series = (await request(srv.url, 'GET', `/api/v1/nodes/${node.id}/metrics`, { headers: bearer(ws.token) })).body.samples;
  t.like(series.at(-1), { pps: 5, fragments_pps: 2, dropped_pps: 3 });
});
