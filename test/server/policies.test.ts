// Response policies through the real server on both databases: the user API
// (create with defaults, 400 naming the field, read, change, delete); an
// incident report makes the policy's rules for the node hit (its heaviest
// sources, not the normal client), each saying which policy and incident
// made it; a later report tops up to the limit; a workspace-scoped policy
// drops on every node; a dry run leaves alone a match a drop rule in force
// holds (policy-actions.test.ts has its log-only rules); after the incident resolves its rules are withdrawn past the grace;
// the cooldown holds back the node's next incident.
import test from 'ava';
import type { RunningServer } from '../../server/index.ts';
import { agentHeaders, request } from '../helpers/http.ts';
import { setup, withServers } from './_harness.ts';
import { policyClient } from './_policy-client.ts';

const each = withServers(test);

const report = (family: string, sources: { ip: string; count: number; normal?: boolean }[], incident_id?: number) => ({
  attack_family: family,
  severity: 'high',
  peak_pps: 80_000,
  peak_bps: 90_000_000,
  spoofing_detected: false,
  // Few sources: the agent's "not spoofed" is final from the opening report on.
  source_ip_count: sources.length,
  top_src_ips: sources,
  ...(incident_id ? { incident_id } : {}),
});

each(
  'policies: the API, rules made from reports, top-up, workspace scope, dry run, withdrawal, cooldown',
  async (t, srv: RunningServer) => {
    const { ws, node } = await setup(srv, 'policies');
    const other = await srv.admin.createNode(ws.id, 'node-b', { ip: '192.0.2.11' });
    const { api, agent, rulesOf } = policyClient(srv, ws.token);

    // The API.
    const bad = await api('POST', '/policies', { name: 'x', action: { type: 'drop_top_sources' }, max_rules: 0 });
    t.is(bad.status, 400);
    t.regex(bad.body.error.message, /^max_rules/);
    t.regex((await api('POST', '/policies', { name: 'x', action: { type: 'nuke' } })).body.error.message, /^action/);
    const syn = await api('POST', '/policies', {
      name: 'syn sources',
      conditions: { families: ['syn_flood'], min_severity: 'high' },
      action: { type: 'drop_top_sources', protocol: 'tcp' },
      max_rules: 3,
      withdraw_grace_seconds: 0,
    });
    t.is(syn.status, 201, JSON.stringify(syn.body));
    t.like(syn.body, { enabled: true, scope: 'node', dry_run: false, ttl_seconds: 600, cooldown_seconds: 300 });
    t.is((await api('GET', `/policies/${syn.body.id}`)).body.name, 'syn sources');
    t.is((await api('PATCH', `/policies/${syn.body.id}`, { ttl_seconds: 900 })).body.ttl_seconds, 900);
    t.is((await api('PATCH', `/policies/${syn.body.id}`, {})).status, 400);
    t.is((await api('GET', '/policies/999999')).status, 404);

    // A report: the two heaviest sources dropped on the node hit, not the normal client.
    const opened = await agent(
      node,
      '/incident',
      report('syn_flood', [
        { ip: '198.51.100.1', count: 600 },
        { ip: '198.51.100.2', count: 300 },
        { ip: '192.0.2.77', count: 100, normal: true },
      ]),
    );
    const incId = opened.body.incident_id;
    let made = await rulesOf(incId);
    t.deepEqual(made.map((r) => r.source).sort(), ['198.51.100.1/32', '198.51.100.2/32']);
    for (const r of made) {
      t.like(r, { origin: 'policy', policy_id: syn.body.id, node_id: node.id, protocol: 'tcp', ttl_seconds: 900 });
      t.regex(r.reason, /^policy "syn sources" \(#\d+\) for incident #\d+ \(syn_flood\/high at 80000 pps\)/);
    }
    const cfg = await request(srv.url, 'GET', '/api/v1/agent/config', { headers: agentHeaders(node) });
    t.is(cfg.body.pending_commands.length, 2, 'on their way to the agent');
    const cfgOther = await request(srv.url, 'GET', '/api/v1/agent/config', { headers: agentHeaders(other) });
    t.is(cfgOther.body.pending_commands.length, 0, 'scope node: the other node gets nothing');

    // Later reports top up to the limit of 3.
    await agent(
      node,
      '/incident',
      report(
        'syn_flood',
        [
          { ip: '198.51.100.3', count: 500 },
          { ip: '198.51.100.4', count: 400 },
        ],
        incId,
      ),
    );
    made = await rulesOf(incId);
    t.is(made.length, 3, 'the limit');
    const events = (await api('GET', `/incidents/${incId}`)).body.timeline.filter((e: any) => e.kind === 'policy');
    t.is(events.length, 2);
    t.like(events[0].data, { name: 'syn sources', dry_run: false });
    t.deepEqual(
      events[0].data.skipped.map((s: any) => s.source),
      ['192.0.2.77'],
    );

    // A workspace-scoped policy drops on every node; a dry run does not turn that drop into a count.
    const fleet = await api('POST', '/policies', {
      name: 'fleet',
      conditions: { families: ['udp_flood'] },
      action: { type: 'drop_top_sources' },
      scope: 'workspace',
      withdraw_grace_seconds: 0,
    });
    const dry = await api('POST', '/policies', { name: 'dry', action: { type: 'drop_top_sources' }, dry_run: true });
    t.is(dry.status, 201);
    const udp = await agent(other, '/incident', report('udp_flood', [{ ip: '203.0.113.9', count: 1000 }]));
    const fleetRules = (await rulesOf(udp.body.incident_id)).filter((r) => r.policy_id === fleet.body.id);
    t.is(fleetRules.length, 1);
    t.like(fleetRules[0], { node_id: null, scope: 'workspace', source: '203.0.113.9/32' });
    const onNode = await request(srv.url, 'GET', '/api/v1/agent/config', { headers: agentHeaders(node) });
    t.true(
      onNode.body.pending_commands.some((c: any) => c.command.includes('203.0.113.9')),
      'reached the node not hit',
    );
    t.is((await rulesOf(udp.body.incident_id)).length, 1, 'the dry run made no log rule of the same match');
    const dryEvents = (await api('GET', `/incidents/${udp.body.incident_id}`)).body.timeline.filter(
      (e: any) => e.kind === 'policy' && e.data.dry_run,
    );
    t.deepEqual(
      dryEvents.map((e: any) => e.data.rules),
      [[]],
    );
    t.deepEqual(dryEvents[0].data.skipped, [{ source: '203.0.113.9', why: `rule #${fleetRules[0].id} of the same match is in force` }]);

    // Resolved: the policy rules are withdrawn past the grace (0 s here; checked every 5 s).
    await agent(other, '/incident/resolve', { incident_id: udp.body.incident_id });
    const deadline = Date.now() + 15_000;
    let state = '';
    while (Date.now() < deadline && state !== 'withdrawn') {
      state = (await api('GET', `/mitigations/${fleetRules[0].id}`)).body.state;
      await new Promise((r) => setTimeout(r, 200));
    }
    t.is(state, 'withdrawn');

    // The cooldown (300 s): the node's next udp_flood incident gets nothing from the fleet policy.
    const again = await agent(other, '/incident', report('udp_flood', [{ ip: '203.0.113.10', count: 1000 }]));
    t.not(again.body.incident_id, udp.body.incident_id);
    t.is((await rulesOf(again.body.incident_id)).filter((r) => r.policy_id === fleet.body.id).length, 0);

    t.is((await api('DELETE', `/policies/${dry.body.id}`)).status, 204);
    t.is((await api('GET', '/policies')).body.policies.length, 2);
  },
);
