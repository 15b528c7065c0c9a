// drop_top_sources and the packets the agent's spoofing verdict rests on,
// through the real server on both databases: a surge opening (30 ms of a
// SYN flood from one host, its ttl_histogram 240 packets) gets no host rule;
// the update 200 ms later (1,600 packets) does; an agent that sends no
// ttl_histogram is judged by the older rule (few sources: at once).
import test from 'ava';
import type { RunningServer } from '../../server/index.ts';
import { setup, withServers } from './_harness.ts';
import { policyClient } from './_policy-client.ts';

const each = withServers(test);

const syn = (packets?: number) => ({
  attack_family: 'syn_flood',
  severity: 'critical',
  peak_pps: 10_000,
  spoofing_detected: false,
  source_ip_count: 1,
  top_src_ips: [{ ip: '198.19.6.6', count: packets ?? 500 }],
  ...(packets === undefined ? {} : { ttl_histogram: { '64': packets } }),
});

each('drop_top_sources waits for 1,000 packets behind the spoofing verdict', async (t, srv: RunningServer) => {
  const { ws, node } = await setup(srv, 'verdict');
  const other = await srv.admin.createNode(ws.id, 'node-b', { ip: '192.0.2.12' });
  const { api, agent: report, rulesOf, policyEvents } = policyClient(srv, ws.token);
  const agent = async (n: { uuid: string; key: string }, json: unknown) => (await report(n, '/incident', json)).body.incident_id as number;
  t.is((await api('POST', '/policies', { name: 'hosts', action: { type: 'drop_top_sources' }, cooldown_seconds: 0 })).status, 201);

  const id = await agent(node, syn(240));
  t.is((await rulesOf(id)).length, 0, 'the opening: 240 packets, not judged');
  const [wait] = await policyEvents(id);
  t.is(wait, undefined, 'a decision that did not act is not on the timeline');
  await agent(node, { ...syn(1_600), incident_id: id });
  const made = await rulesOf(id);
  t.is(made.length, 1);
  t.like(made[0], { source: '198.19.6.6/32', origin: 'policy' });

  // No ttl_histogram (an agent that does not say): one source, so its opening's verdict cannot change.
  const older = await agent(other, syn());
  t.is((await rulesOf(older)).length, 1);
});
