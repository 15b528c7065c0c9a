// The kernel's state in the heartbeat (extension fields of POST
// /api/v1/agent/heartbeat, migration 013) on both databases: stored, read back
// from GET /nodes/:id and GET /nodes, kept by an older agent's heartbeat,
// refused when bad; the kill switch in force (the newer of heartbeat and
// kernel-rules report) against the one set, a lasting difference shown as a
// mismatch, and both as Prometheus gauges.
import test from 'ava';
import type { RunningServer } from '../../server/index.ts';
import { agentHeaders, bearer, request } from '../helpers/http.ts';
import { setup, withServers } from './_harness.ts';

const each = withServers(test);

type Node = { id: number; uuid: string; key: string };
const beat = (srv: RunningServer, node: Node, json: unknown) =>
  request(srv.url, 'POST', '/api/v1/agent/heartbeat', { headers: agentHeaders(node), json });
const getNode = async (srv: RunningServer, token: string, id: number) =>
  (await request(srv.url, 'GET', `/api/v1/nodes/${id}`, { headers: bearer(token) })).body;
const kernelState = (n: Record<string, unknown>) => ({
  kill_switch_in_force: n.kill_switch_in_force,
  kill_switch_mismatch: n.kill_switch_mismatch,
  log_only_rules: n.log_only_rules,
  rules_in_kernel: n.rules_in_kernel,
});
/** The kill switch set `seconds` ago (past the mismatch grace), on the node and its workspace. */
const setAgo = (srv: RunningServer, id: number, seconds: number) =>
  Promise.all([
    srv.db.query(`UPDATE nodes SET kill_switch_changed_at = now() - make_interval(secs => $2) WHERE id = $1`, [id, seconds]),
    srv.db.query(
      `UPDATE workspaces SET kill_switch_changed_at = now() - make_interval(secs => $2) WHERE id = (SELECT workspace_id FROM nodes WHERE id = $1)`,
      [id, seconds],
    ),
  ]);

each('a heartbeat without the extensions, with them, and without again: stored and read back', async (t, srv) => {
  const { ws, node } = await setup(srv);
  t.is((await beat(srv, node, { agent_version: '0.1.0', uptime: 3, os: 'Debian 12' })).status, 200);
  const before = await getNode(srv, ws.token, node.id);
  t.deepEqual(kernelState(before), {
    kill_switch_in_force: null,
    kill_switch_mismatch: false,
    log_only_rules: null,
    rules_in_kernel: null,
  });
  t.is(before.kill_switch_reported_at, null);

  const r = await beat(srv, node, {
    agent_version: '0.1.0',
    uptime: 33,
    os: 'Debian 12',
    kill_switch: false,
    log_only_rules: 2,
    rules_in_kernel: 5,
  });
  t.is(r.status, 200);
  const n = await getNode(srv, ws.token, node.id);
  t.deepEqual(kernelState(n), { kill_switch_in_force: false, kill_switch_mismatch: false, log_only_rules: 2, rules_in_kernel: 5 });
  t.true(Math.abs(Date.parse(n.kill_switch_reported_at) - Date.now()) < 60_000);
  t.is(n.uptime, 33);
  const list = (await request(srv.url, 'GET', '/api/v1/nodes', { headers: bearer(ws.token) })).body.nodes;
  t.like(
    list.find((x: { id: number }) => x.id === node.id),
    { kill_switch_in_force: false, log_only_rules: 2, rules_in_kernel: 5 },
  );

  // An older agent (or one that could not read its kernel): the last state stays, with its time.
  t.is((await beat(srv, node, { agent_version: '0.0.9', uptime: 63 })).status, 200);
  const after = await getNode(srv, ws.token, node.id);
  t.deepEqual(kernelState(after), kernelState(n));
  t.is(after.kill_switch_reported_at, n.kill_switch_reported_at);
  t.is(after.agent_version, '0.0.9');
});

each('a bad extension value is 400 naming the field, and stores nothing', async (t, srv) => {
  const { ws, node } = await setup(srv);
  for (const [field, value] of [
    ['kill_switch', 'yes'],
    ['log_only_rules', -1],
    ['rules_in_kernel', 1.5],
    ['rules_in_kernel', 2 ** 31],
  ] as const) {
    const r = await beat(srv, node, { agent_version: '0.1.0', kill_switch: true, [field]: value });
    t.is(r.status, 400, `${field}: ${JSON.stringify(value)}`);
    t.is(r.body.error.code, 'validation_failed');
    t.true(r.body.error.message.startsWith(`${field}: `), r.body.error.message);
  }
  t.is((await getNode(srv, ws.token, node.id)).kill_switch_in_force, null);
  t.is((await getNode(srv, ws.token, node.id)).last_seen_at, null, 'a refused heartbeat is not a heartbeat');
});

each('the kill switch in force against the one set: a mismatch only past the grace', async (t, srv) => {
  const { ws, node } = await setup(srv);
  const h = bearer(ws.token);
  t.is((await request(srv.url, 'PUT', `/api/v1/nodes/${node.id}/kill-switch`, { headers: h, json: { on: true } })).status, 200);
  // Just set: the kernel has not followed yet, and need not have.
  await beat(srv, node, { kill_switch: false, log_only_rules: 0, rules_in_kernel: 1 });
  t.like(await getNode(srv, ws.token, node.id), {
    kill_switch: true,
    dropping_stopped: true,
    kill_switch_in_force: false,
    kill_switch_mismatch: false,
  });
  // Set a minute ago and the kernel still says off: a mismatch.
  await setAgo(srv, node.id, 60);
  t.like(await getNode(srv, ws.token, node.id), { kill_switch_in_force: false, kill_switch_mismatch: true });
  // The kernel-rules report, newer than the heartbeat, says on: in force.
  const rep = await request(srv.url, 'POST', '/api/v1/agent/rules', {
    headers: agentHeaders(node),
    json: { rules: [], kill_switch: true, attached: true },
  });
  t.is(rep.status, 200);
  t.like(await getNode(srv, ws.token, node.id), { kill_switch_in_force: true, kill_switch_mismatch: false });
  // A heartbeat after it says off again: the newer word counts.
  await beat(srv, node, { kill_switch: false, log_only_rules: 0, rules_in_kernel: 0 });
  t.like(await getNode(srv, ws.token, node.id), { kill_switch_in_force: false, kill_switch_mismatch: true });
  // The switch off at the server: the kernel agrees, nothing to show.
  t.is((await request(srv.url, 'PUT', `/api/v1/nodes/${node.id}/kill-switch`, { headers: h, json: { on: false } })).status, 200);
  t.like(await getNode(srv, ws.token, node.id), { kill_switch: false, dropping_stopped: false, kill_switch_mismatch: false });
  // The workspace's switch on counts for the node, with its own grace.
  t.is((await request(srv.url, 'PUT', '/api/v1/workspace/kill-switch', { headers: h, json: { on: true } })).status, 200);
  t.like(await getNode(srv, ws.token, node.id), { kill_switch: false, dropping_stopped: true, kill_switch_mismatch: false });
  await setAgo(srv, node.id, 60);
  t.like(await getNode(srv, ws.token, node.id), { dropping_stopped: true, kill_switch_in_force: false, kill_switch_mismatch: true });
  await beat(srv, node, { kill_switch: true, log_only_rules: 0, rules_in_kernel: 0 });
  t.like(await getNode(srv, ws.token, node.id), { kill_switch_in_force: true, kill_switch_mismatch: false });
});

each('a change of the kill switch is timed by the database; a write of the same value is not a change', async (t, srv) => {
  const { ws, node } = await setup(srv);
  const at = async () =>
    (await srv.db.query<{ at: Date | null }>('SELECT kill_switch_changed_at AS at FROM nodes WHERE id = $1', [node.id])).rows[0]!.at;
  t.is(await at(), null);
  await request(srv.url, 'PUT', `/api/v1/nodes/${node.id}/kill-switch`, { headers: bearer(ws.token), json: { on: false } });
  t.is(await at(), null, 'off to off');
  await request(srv.url, 'PUT', `/api/v1/nodes/${node.id}/kill-switch`, { headers: bearer(ws.token), json: { on: true } });
  const first = await at();
  t.truthy(first);
  await request(srv.url, 'PUT', `/api/v1/nodes/${node.id}/kill-switch`, { headers: bearer(ws.token), json: { on: true } });
  t.deepEqual(await at(), first, 'on to on');
});

each('Prometheus: the kill switch set, in force (while said within the online window), and the mismatch', async (t, srv) => {
  const { ws, node } = await setup(srv);
  const metric = async (name: string) => {
    const text = (await request(srv.url, 'GET', '/api/metrics', { headers: bearer(ws.token) })).body as string;
    const line = text.split('\n').find((l) => l.startsWith(`breakwater_${name}{`) && l.includes('node="node-a"'));
    return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
  };
  t.is(await metric('node_kill_switch_in_force'), undefined, 'never said');
  t.is(await metric('node_kill_switch_mismatch'), 0);
  await request(srv.url, 'PUT', `/api/v1/nodes/${node.id}/kill-switch`, { headers: bearer(ws.token), json: { on: true } });
  await beat(srv, node, { kill_switch: false, log_only_rules: 0, rules_in_kernel: 0 });
  await setAgo(srv, node.id, 60);
  t.is(await metric('node_kill_switch'), 1);
  t.is(await metric('node_kill_switch_in_force'), 0);
  t.is(await metric('node_kill_switch_mismatch'), 1);
  await beat(srv, node, { kill_switch: true, log_only_rules: 0, rules_in_kernel: 0 });
  t.is(await metric('node_kill_switch_in_force'), 1);
  t.is(await metric('node_kill_switch_mismatch'), 0);
  // Said longer ago than the online window: no current value; the mismatch stands (not confirmed).
  await srv.db.query(`UPDATE nodes SET heartbeat_kernel_at = now() - interval '10 minutes' WHERE id = $1`, [node.id]);
  t.is(await metric('node_kill_switch_in_force'), undefined);
  t.is(await metric('node_kill_switch_mismatch'), 0, 'the last word agreed');
});
