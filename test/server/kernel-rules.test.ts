// The kernels' rules at the server (POST /api/v1/agent/rules), on both
// databases: a report is stored whole and shown by the user API (the node's
// rules with origins and hits, each mitigation rule's per-node kernel facts);
// bad bodies are 400 naming the field; the mitigation gauges count what the
// reports say and the adapter is healthy only while attached and reporting;
// a rule the kernel lost is issued again once (not while its command is
// pending), and a withdrawn one still there gets its remove again.
import test from 'ava';
import type { RunningServer } from '../../server/index.ts';
import { agentHeaders, bearer, request } from '../helpers/http.ts';
import { count, setup, withServers } from './_harness.ts';

const each = withServers(test);

type Node = { id: number; uuid: string; key: string };
const inAnHour = () => new Date(Date.now() + 3600_000).toISOString();
const kernelRule = (source: string, extra: Record<string, unknown> = {}) => ({
  source,
  mode: 'drop',
  expires_at: inAnHour(),
  origin: 'command',
  packets: 10,
  bytes: 600,
  ...extra,
});
const report = (rules: unknown[], extra: Record<string, unknown> = {}) => ({
  rules,
  kill_switch: false,
  attached: true,
  xdp_mode: 'native',
  ...extra,
});

async function world(srv: RunningServer) {
  const { ws, node } = await setup(srv, 'kernel');
  const u = bearer(ws.token);
  const api = (method: string, path: string, json?: unknown) => request(srv.url, method, `/api/v1${path}`, { headers: u, json });
  const agent = (n: Node, method: string, path: string, json?: unknown) =>
    request(srv.url, method, `/api/v1/agent${path}`, { headers: agentHeaders(n), json });
  const send = (n: Node, body: unknown) => agent(n, 'POST', '/rules', body);
  const pending = async (n: Node) => (await agent(n, 'GET', '/config')).body.pending_commands as any[];
  const ack = (n: Node, id: number, status = 'applied') => agent(n, 'POST', `/commands/${id}/ack`, { status });
  /** A rule for the node, applied by it. */
  const applied = async (n: Node, source: string) => {
    const rule = (await api('POST', '/mitigations', { node_id: n.id, source, ttl_seconds: 600 })).body;
    const cmd = (await pending(n)).find((c) => c.rule.rule_id === rule.id);
    t_assert(cmd, `no command for ${source}`);
    await ack(n, cmd.id);
    return { rule, cmd };
  };
  return { ws, node, api, agent, send, pending, ack, applied };
}
function t_assert(v: unknown, msg: string): asserts v {
  if (!v) throw new Error(msg);
}

each('a report is stored whole and shown: the node, and each rule per node', async (t, srv) => {
  const w = await world(srv);
  const { rule, cmd } = await w.applied(w.node, '203.0.113.7');
  t.truthy(cmd);
  // Before any report: the rule's kernel facts are unknown.
  t.is((await w.api('GET', `/mitigations/${rule.id}`)).body.nodes[0].kernel, null);
  const r = await w.send(
    w.node,
    report([
      kernelRule('203.0.113.7', { rule_id: rule.id, packets: 1234, bytes: 74_040 }),
      kernelRule('0.0.0.0/0', { protocol: 'icmp', icmp_type: 8, origin: 'local', expires_at: null, packets: 5, bytes: 420 }),
      kernelRule('2001:db8::/48', { protocol: 'udp', port: 53, mode: 'log', origin: 'unknown', rule_id: 99_999_999 }),
    ]),
  );
  t.is(r.status, 200, JSON.stringify(r.body));
  t.deepEqual(r.body, { ok: true, stored: 3, reissued: 0, removed: 0 });
  const k = await w.api('GET', `/nodes/${w.node.id}/rules`);
  t.is(k.status, 200);
  t.like(k.body, { node_id: w.node.id, fresh: true, attached: true, kill_switch: false, xdp_mode: 'native', truncated: false });
  t.is(k.body.rules.length, 3);
  const by = Object.fromEntries(k.body.rules.map((x: any) => [x.source, x]));
  t.like(by['203.0.113.7/32'], { origin: 'command', rule_id: rule.id, packets: 1234, bytes: 74_040, mode: 'drop', expired: false });
  t.like(by['0.0.0.0/0'], { protocol: 'icmp', icmp_type: 8, port: null, origin: 'local', expires_at: null });
  // A rule id that is not the workspace's is not linked.
  t.like(by['2001:db8::/48'], { protocol: 'udp', port: 53, mode: 'log', origin: 'unknown', rule_id: null });
  const m = (await w.api('GET', `/mitigations/${rule.id}`)).body;
  t.is(m.state, 'active');
  t.like(m.nodes[0], {
    node_id: w.node.id,
    state: 'active',
    reissued: 0,
    kernel: { present: true, mode: 'drop', packets: 1234, bytes: 74_040 },
  });
  // The next report replaces the set.
  t.is((await w.send(w.node, report([kernelRule('198.51.100.1', { origin: 'local' })]))).body.stored, 1);
  t.deepEqual(
    (await w.api('GET', `/nodes/${w.node.id}/rules`)).body.rules.map((x: any) => x.source),
    ['198.51.100.1/32'],
  );
  // Another workspace's node is 404.
  const other = await setup(srv, 'kernel-other');
  t.is((await request(srv.url, 'GET', `/api/v1/nodes/${other.node.id}/rules`, { headers: bearer(w.ws.token) })).status, 404);
});

each('bad reports are 400 naming the field, and write nothing', async (t, srv) => {
  const w = await world(srv);
  const cases: [unknown, RegExp][] = [
    [{ kill_switch: false, attached: true }, /^rules: required/],
    [report([kernelRule('10.0.0.1/8')]), /^rules\.0\.source: /],
    [report([kernelRule('not-an-ip')]), /^rules\.0\.source: /],
    [report([kernelRule('10.0.0.1', { port: 80 })]), /^rules\.0\.port: a destination port needs protocol tcp or udp/],
    [report([kernelRule('10.0.0.1', { protocol: 'udp', icmp_type: 3 })]), /^rules\.0\.icmp_type: /],
    [report([kernelRule('10.0.0.1', { protocol: 'tcp', port: 0 })]), /^rules\.0\.port: /],
    [report([kernelRule('10.0.0.1', { mode: 'reject' })]), /^rules\.0\.mode: /],
    [report([kernelRule('10.0.0.1', { origin: 'bgp' })]), /^rules\.0\.origin: /],
    [report([kernelRule('10.0.0.1', { expires_at: '2026-02-30T00:00:00Z' })]), /^rules\.0\.expires_at: /],
    [report([kernelRule('10.0.0.1', { packets: -1 })]), /^rules\.0\.packets: /],
    [report([kernelRule('10.0.0.1', { rule_id: 0 })]), /^rules\.0\.rule_id: /],
    [report([kernelRule('10.0.0.1'), kernelRule('10.0.0.1/32')]), /^rules\.1\.source: the same match as rules\.0/],
    [report([], { attached: 'yes' }), /^attached: /],
    [report([], { kill_switch: undefined }), /^kill_switch: required/],
    [report([], { xdp_mode: 'x'.repeat(33) }), /^xdp_mode: /],
  ];
  for (const [body, why] of cases) {
    const r = await w.send(w.node, body);
    t.is(r.status, 400, JSON.stringify(body));
    t.is(r.body.error.code, 'validation_failed');
    t.regex(r.body.error.message, why);
  }
  t.is(await count(srv, 'SELECT count(*) FROM node_kernel_rules WHERE node_id = $1', [w.node.id]), 0);
  t.is(await count(srv, 'SELECT count(*) FROM nodes WHERE id = $1 AND kernel_reported_at IS NOT NULL', [w.node.id]), 0);
  // Too many rules: the contract's bound, named.
  const many = Array.from({ length: 16_385 }, (_, i) => kernelRule(`10.${(i >> 8) & 255}.${i & 255}.${i >> 16}`));
  const r = await w.send(w.node, report(many));
  t.is(r.status, 400);
  t.regex(r.body.error.message, /^rules: at most 16384 rules/);
  t.is((await request(srv.url, 'POST', '/api/v1/agent/rules', { json: report([]) })).status, 401);
});

each('the gauges count what the kernels report; the adapter is healthy while attached and reporting', async (t, srv) => {
  const w = await world(srv);
  const b = await srv.admin.createNode(w.ws.id, 'node-b', { ip: '192.0.2.11' });
  const c = await srv.admin.createNode(w.ws.id, 'node-c', { ip: '192.0.2.12' });
  const metrics = async () => (await request(srv.url, 'GET', '/api/metrics', { headers: bearer(w.ws.token) })).body as string;
  const value = (text: string, name: string, labels = `tenant_id="${w.ws.uuid}"`) => {
    const line = text.split('\n').find((l) => l.startsWith(`breakwater_${name}{`) && l.includes(labels));
    return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
  };
  // Three rules for node-a: one applied, one refused, one not answered.
  await w.applied(w.node, '203.0.113.1');
  await w.api('POST', '/mitigations', { node_id: w.node.id, source: '203.0.113.2', ttl_seconds: 600 });
  await w.api('POST', '/mitigations', { node_id: w.node.id, source: '203.0.113.3', ttl_seconds: 600 });
  const cmds = await w.pending(w.node);
  await w.ack(w.node, cmds[0].id, 'failed');
  // Acknowledged, but no kernel has reported anything: nothing is active.
  let text = await metrics();
  t.is(value(text, 'mitigation_active_rules'), 0);
  t.is(value(text, 'mitigation_pending_rules'), 1);
  t.is(value(text, 'mitigation_failed_rules'), 1);
  t.is(value(text, 'mitigation_adapter_healthy', 'adapter="node-a",type="xdp"'), 0, 'a heartbeat alone is not health');
  // node-a holds its rule, a local one, a log-only one and an expired one; node-b two, detached; node-c heartbeats only.
  await w.send(
    w.node,
    report([
      kernelRule('203.0.113.1'),
      kernelRule('198.51.100.9', { origin: 'local' }),
      kernelRule('198.51.100.10', { mode: 'log', origin: 'unknown' }),
      kernelRule('198.51.100.11', { expires_at: new Date(Date.now() - 1000).toISOString(), origin: 'local' }),
    ]),
  );
  await w.send(b, report([kernelRule('198.51.100.20'), kernelRule('198.51.100.21')], { attached: false }));
  await request(srv.url, 'POST', '/api/v1/agent/heartbeat', { headers: agentHeaders(c), json: {} });
  text = await metrics();
  t.is(value(text, 'mitigation_active_rules'), 4, 'drop rules in force: 2 on node-a, 2 on node-b');
  t.is(value(text, 'mitigation_adapter_healthy', 'adapter="node-a",type="xdp"'), 1);
  t.is(value(text, 'mitigation_adapter_healthy', 'adapter="node-b",type="xdp"'), 0, 'not attached');
  t.is(value(text, 'mitigation_adapter_healthy', 'adapter="node-c",type="xdp"'), 0, 'no report');
  // A stale report counts for nothing.
  await srv.db.query(`UPDATE nodes SET kernel_reported_at = now() - interval '10 minutes' WHERE id = $1`, [w.node.id]);
  text = await metrics();
  t.is(value(text, 'mitigation_active_rules'), 2);
  t.is(value(text, 'mitigation_adapter_healthy', 'adapter="node-a",type="xdp"'), 0);
});

each('a rule the kernel lost is issued again, once; a withdrawn one still there is removed again', async (t, srv) => {
  const w = await world(srv);
  const kept = await w.applied(w.node, '203.0.113.10');
  const lost = await w.applied(w.node, '203.0.113.11');
  const present = [kernelRule('203.0.113.10', { rule_id: kept.rule.id }), kernelRule('203.0.113.11', { rule_id: lost.rule.id })];
  t.like((await w.send(w.node, report(present))).body, { reissued: 0, removed: 0 });
  // The agent restarts on an empty kernel but for one rule adopted (origin unknown).
  const after = report([kernelRule('203.0.113.10', { origin: 'unknown' })]);
  t.like((await w.send(w.node, after)).body, { stored: 1, reissued: 1, removed: 0 });
  const again = (await w.pending(w.node)).filter((c) => c.rule.rule_id === lost.rule.id);
  t.is(again.length, 1);
  t.not(again[0].id, lost.cmd.id);
  t.like(again[0].rule, { op: 'add', source: '203.0.113.11/32' });
  // While that command is pending, the same report issues nothing more.
  t.like((await w.send(w.node, after)).body, { reissued: 0 });
  t.like((await w.send(w.node, after)).body, { reissued: 0 });
  // The rule's state stays one per node, and says it was issued again.
  let m = (await w.api('GET', `/mitigations/${lost.rule.id}`)).body;
  t.is(m.nodes.length, 1);
  t.like(m.nodes[0], { state: 'pending', reissued: 1, kernel: { present: false } });
  t.is(m.state, 'pending');
  await w.ack(w.node, again[0].id);
  t.like((await w.send(w.node, report(present))).body, { reissued: 0 });
  m = (await w.api('GET', `/mitigations/${lost.rule.id}`)).body;
  t.like(m.nodes[0], { state: 'active', reissued: 1, kernel: { present: true } });
  // Lost again within the minute: not issued again yet (the loop guard).
  t.like((await w.send(w.node, after)).body, { reissued: 0 });
  t.is(await count(srv, "SELECT count(*) FROM node_commands WHERE rule_id = $1 AND op = 'add'", [lost.rule.id]), 2);
  // A partial report or a detached program proves nothing missing.
  await srv.db.query(`UPDATE node_commands SET superseded_at = now() - interval '2 minutes' WHERE superseded_at IS NOT NULL`);
  t.like((await w.send(w.node, report([], { truncated: true }))).body, { reissued: 0 });
  t.like((await w.send(w.node, report([], { attached: false }))).body, { reissued: 0 });
  t.like((await w.send(w.node, report([]))).body, { reissued: 2 }, 'both rules, past the guard');

  // Withdrawn: the remove is applied, yet the kernel still has the rule.
  const gone = await w.applied(w.node, '203.0.113.12');
  await w.api('POST', `/mitigations/${gone.rule.id}/withdraw`, {});
  const rm = (await w.pending(w.node)).find((c) => c.rule.rule_id === gone.rule.id && c.rule.op === 'remove');
  t.truthy(rm);
  await w.ack(w.node, rm.id);
  const still = report([kernelRule('203.0.113.12', { origin: 'unknown' })]);
  t.like((await w.send(w.node, still)).body, { removed: 0 }, 'the removal postdates the previous report');
  t.like((await w.send(w.node, still)).body, { removed: 1 });
  const rm2 = (await w.pending(w.node)).filter((c) => c.rule.rule_id === gone.rule.id && c.rule.op === 'remove');
  t.is(rm2.length, 1);
  t.not(rm2[0].id, rm.id);
  t.like((await w.send(w.node, still)).body, { removed: 0 }, 'not while the remove is pending');
  // A local rule of the same match is the agent's own: left alone.
  await w.ack(w.node, rm2[0].id);
  await srv.db.query(`UPDATE node_commands SET superseded_at = now() - interval '2 minutes' WHERE superseded_at IS NOT NULL`);
  await w.send(w.node, report([]));
  t.like((await w.send(w.node, report([kernelRule('203.0.113.12', { origin: 'local' })]))).body, { removed: 0 });
});
