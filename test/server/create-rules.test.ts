// Many rules in one go (server/sql/mitigations.ts), on both databases:
// createRules (what a response policy's decision makes): each id in the
// order asked, null for a node outside the workspace, one pending command per
// rule and target node, in the rules' order; withdrawRules (a policy's rules
// once their incident resolved): undelivered adds dropped, applied ones a
// removal each, once, another workspace's rule untouched.
import test from 'ava';
import { prefixOf } from '../../contract/net/prefix.ts';
import { ackCommand, createRules, withdrawRules } from '../../server/sql/mitigations.ts';
import { setup, withServers } from './_harness.ts';

const each = withServers(test);
const rule = (source: string) => ({ source: prefixOf(source), ttlSeconds: 600 });

each('ids in the order asked, null for a foreign node, commands in the rules order', async (t, srv) => {
  const { ws, node } = await setup(srv, 'many');
  const other = await srv.admin.createNode(ws.id, 'node-b', { ip: '192.0.2.11' });
  const foreign = await setup(srv, 'foreign');
  const ids = await srv.db.withTransaction((c) =>
    createRules(c, ws.id, [
      { rule: rule('198.18.7.1/32'), reason: 'all nodes' },
      { node_id: foreign.node.id, rule: rule('198.18.7.2/32'), reason: 'not this workspace' },
      { node_id: other.id, rule: { ...rule('198.18.7.0/24'), protocol: 'udp', port: 53 }, reason: 'one node' },
      { rule: { ...rule('2001:db8:7::/48'), mode: 'log' }, reason: 'log only' },
    ]),
  );
  t.is(ids.length, 4);
  t.is(ids[1], null);
  const made = ids.filter((x): x is number => x !== null);
  t.deepEqual(
    [...made].sort((a, b) => a - b),
    made,
    'ascending in the order asked',
  );
  const { rows } = await srv.db.query<{
    id: number;
    source: string;
    protocol: string | null;
    port: number | null;
    action: string;
    reason: string;
  }>('SELECT id, source::text AS source, protocol, port, action, reason FROM mitigation_rules WHERE id = ANY($1::bigint[]) ORDER BY id', [
    made,
  ]);
  t.deepEqual(
    rows.map((r) => [Number(r.id), r.source, r.protocol, r.port, r.action, r.reason]),
    [
      [made[0], '198.18.7.1/32', null, null, 'drop', 'all nodes'],
      [made[1], '198.18.7.0/24', 'udp', 53, 'drop', 'one node'],
      [made[2], '2001:db8:7::/48', null, null, 'log', 'log only'],
    ],
  );
  const cmds = await srv.db.query<{ rule_id: number; node_id: number }>(
    "SELECT rule_id, node_id FROM node_commands WHERE rule_id = ANY($1::bigint[]) AND op = 'add' ORDER BY id",
    [made],
  );
  t.deepEqual(
    cmds.rows.map((c) => [Number(c.rule_id), Number(c.node_id)]),
    [
      [made[0], node.id],
      [made[0], other.id],
      [made[1], other.id],
      [made[2], node.id],
      [made[2], other.id],
    ],
  );
  t.deepEqual(await srv.db.withTransaction((c) => createRules(c, ws.id, [])), []);
});

each('withdrawRules: pending adds withdrawn, applied ones removed once, other workspaces untouched', async (t, srv) => {
  const { ws, node } = await setup(srv, 'wmany');
  const other = await srv.admin.createNode(ws.id, 'node-b', { ip: '192.0.2.11' });
  const foreign = await setup(srv, 'wforeign');
  const [a, b] = (await srv.db.withTransaction((c) =>
    createRules(c, ws.id, [{ rule: rule('198.18.8.1/32') }, { rule: rule('198.18.8.2/32') }]),
  )) as number[];
  const [f] = (await srv.db.withTransaction((c) => createRules(c, foreign.ws.id, [{ rule: rule('198.18.8.3/32') }]))) as number[];
  const cmd = async (ruleId: number, nodeId: number, op = 'add') =>
    (
      await srv.db.query<{ id: number; status: string }>(
        'SELECT id, status FROM node_commands WHERE rule_id = $1 AND node_id = $2 AND op = $3',
        [ruleId, nodeId, op],
      )
    ).rows;
  t.is(await ackCommand(srv.db, node.id, Number((await cmd(a!, node.id))[0]!.id), 'applied', null), 'ok');
  const withdraw = () => srv.db.withTransaction((c) => withdrawRules(c, ws.id, [b!, a!, f!]));
  t.deepEqual(await withdraw(), [a, b], "this workspace's rules, not the other's");
  t.deepEqual(
    (await cmd(a!, node.id, 'remove')).map((c) => c.status),
    ['pending'],
    'the applied add gets a removal',
  );
  t.deepEqual(
    (await cmd(a!, other.id)).map((c) => c.status),
    ['withdrawn'],
  );
  t.deepEqual(
    [...(await cmd(b!, node.id)), ...(await cmd(b!, other.id))].map((c) => c.status),
    ['withdrawn', 'withdrawn'],
  );
  t.deepEqual(await cmd(b!, node.id, 'remove'), []);
  t.deepEqual(await withdraw(), [a, b], 'again: harmless');
  t.is((await cmd(a!, node.id, 'remove')).length, 1, 'one removal, not two');
  t.deepEqual(
    (await cmd(f!, foreign.node.id)).map((c) => c.status),
    ['pending'],
  );
  t.deepEqual(await srv.db.withTransaction((c) => withdrawRules(c, ws.id, [])), []);
});
