// Many rules in one go (server/sql/mitigations.ts createRules, what a
// response policy's decision makes), on both databases: each id in the order
// asked, null for a node outside the workspace, one pending command per rule
// and target node, in the rules' order, and the same rows one by one makes.
import test from 'ava';
import { prefixOf } from '../../contract/net/prefix.ts';
import { createRules } from '../../server/sql/mitigations.ts';
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
