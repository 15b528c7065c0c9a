// The actions for floods whose top sources cannot simply be dropped, through
// the real server on both databases: a bad action body is 400 naming the
// field; the opening report of a spoofed flood gets a prefix rule (its range,
// its dominant port) and no host rules, nor does the update that says it is
// spoofed; a dry run makes log-only rules, marked as the policy's and
// withdrawn after the incident resolves, and never one whose match a drop
// rule in force (here the agent's own auto-mitigation) already holds.
import test from 'ava';
import type { RunningServer } from '../../server/index.ts';
import { agentHeaders, request } from '../helpers/http.ts';
import { setup, withServers } from './_harness.ts';
import { policyClient } from './_policy-client.ts';

const each = withServers(test);

/** The opening report of the lab's spoofed UDP flood: no verdict yet, 27 sources over 198.19.0.0/16, one port. */
const spoofedOpening = {
  attack_family: 'udp_flood',
  severity: 'critical',
  peak_pps: 120_000,
  spoofing_detected: false,
  source_ip_count: 6000,
  top_src_ips: Array.from({ length: 27 }, (_, i) => ({ ip: `198.19.${i * 9}.${i + 1}`, count: 40 })),
  top_dst_ports: [{ port: 27015, count: 1000 }],
};
/** The lab's DNS reflection: 16 resolvers 198.19.53.1-16, random destination ports. */
const reflection = {
  attack_family: 'dns_flood',
  severity: 'high',
  peak_pps: 40_000,
  spoofing_detected: false,
  source_ip_count: 16,
  top_src_ips: Array.from({ length: 16 }, (_, i) => ({ ip: `198.19.53.${i + 1}`, count: 500 })),
  top_dst_ports: Array.from({ length: 10 }, (_, i) => ({ port: 40_000 + i, count: 50 })),
};

each(
  'policy actions: prefixes for a spoofed flood, no host rules before the verdict, dry run as log-only rules',
  async (t, srv: RunningServer) => {
    const { ws, node } = await setup(srv, 'actions');
    const other = await srv.admin.createNode(ws.id, 'node-b', { ip: '192.0.2.11' });
    const { api, agent, rulesOf, policyEvents } = policyClient(srv, ws.token);

    // Bad action bodies: 400, the field first.
    for (const [action, field] of [
      [{ type: 'drop_source_prefixes', prefix_length_v4: 8 }, 'action.prefix_length_v4'],
      [{ type: 'drop_source_prefixes', dominant_port: true }, 'action.dominant_port'],
      [{ type: 'drop_source_prefixes', min_sources: 'four' }, 'action.min_sources'],
      [{ type: 'drop_destination_port', protocol: 'udp' }, 'action.type'],
    ] as const) {
      const bad = await api('POST', '/policies', { name: 'bad', action });
      t.is(bad.status, 400, JSON.stringify(action));
      t.true(bad.body.error.message.startsWith(`${field}: `), bad.body.error.message);
    }

    const hosts = await api('POST', '/policies', {
      name: 'hosts',
      conditions: { families: ['udp_flood'] },
      action: { type: 'drop_top_sources' },
    });
    const range = await api('POST', '/policies', {
      name: 'spoofed range',
      conditions: { families: ['udp_flood'] },
      action: { type: 'drop_source_prefixes', prefix_length_v4: 16, protocol: 'udp', dominant_port: true },
      withdraw_grace_seconds: 0,
    });
    t.is(range.status, 201, JSON.stringify(range.body));
    t.like(range.body.action, { type: 'drop_source_prefixes', prefix_length_v6: 48, min_sources: 4 });

    // The opening report: one prefix rule, the range to the flood's port; no host rule before the verdict.
    const opened = await agent(node, '/incident', spoofedOpening);
    const incId = opened.body.incident_id;
    let made = await rulesOf(incId);
    t.is(made.length, 1);
    t.like(made[0], {
      origin: 'policy',
      policy_id: range.body.id,
      node_id: node.id,
      action: 'drop',
      source: '198.19.0.0/16',
      protocol: 'udp',
      port: 27015,
    });
    t.regex(
      made[0].reason,
      /^policy "spoofed range" \(#\d+\) for incident #\d+ \(udp_flood\/critical at 120000 pps\): 198\.19\.0\.0\/16 holds 27 of the top sources \(100\.0% of their packets\), to port 27015/,
    );
    // The verdict: spoofed. Still no host rule, and the range is not made twice.
    await agent(node, '/incident', { ...spoofedOpening, spoofing_detected: true, incident_id: incId });
    made = await rulesOf(incId);
    t.is(made.length, 1);
    t.false(
      made.some((r) => r.policy_id === hosts.body.id),
      'drop_top_sources made nothing',
    );
    t.deepEqual(
      (await policyEvents(incId)).map((e: any) => e.data.name),
      ['spoofed range'],
    );

    // A dry run: log-only rules, the policy's, withdrawn as the others.
    const dry = await api('POST', '/policies', {
      name: 'reflectors, dry',
      conditions: { families: ['dns_flood'] },
      action: { type: 'drop_source_prefixes', protocol: 'udp' },
      dry_run: true,
      cooldown_seconds: 0,
      withdraw_grace_seconds: 0,
    });
    t.is(dry.status, 201);
    const dns = await agent(other, '/incident', reflection);
    const logged = await rulesOf(dns.body.incident_id);
    t.is(logged.length, 1);
    t.like(logged[0], {
      origin: 'policy',
      policy_id: dry.body.id,
      node_id: other.id,
      action: 'log',
      source: '198.19.53.0/24',
      protocol: 'udp',
    });
    t.regex(logged[0].reason, /198\.19\.53\.0\/24 holds 16 of the top sources \(100\.0% of their packets\); dry run: log only$/);
    const cfg = await request(srv.url, 'GET', '/api/v1/agent/config', { headers: agentHeaders(other) });
    t.like(
      cfg.body.pending_commands.find((c: any) => c.rule.rule_id === logged[0].id),
      { rule: { action: 'log' } },
      'the agent is told to count, not drop',
    );
    const [event] = await policyEvents(dns.body.incident_id);
    t.like(event.data, { name: 'reflectors, dry', action: 'drop_source_prefixes', dry_run: true });
    t.deepEqual(event.data.rules, [{ id: logged[0].id, source: '198.19.53.0/24', protocol: 'udp', mode: 'log' }]);

    await agent(other, '/incident/resolve', { incident_id: dns.body.incident_id });
    const deadline = Date.now() + 15_000;
    let state = '';
    while (Date.now() < deadline && state !== 'withdrawn') {
      state = (await api('GET', `/mitigations/${logged[0].id}`)).body.state;
      await new Promise((r) => setTimeout(r, 200));
    }
    t.is(state, 'withdrawn');

    // The agent's own drop of the range is in its kernel: the dry run leaves it alone (a log rule would replace it).
    const kernel = await request(srv.url, 'POST', '/api/v1/agent/rules', {
      headers: agentHeaders(other),
      json: {
        rules: [{ source: '198.19.53.0/24', protocol: 'udp', mode: 'drop', expires_at: null, origin: 'local', packets: 9, bytes: 900 }],
        kill_switch: false,
        attached: true,
        xdp_mode: 'native',
      },
    });
    t.is(kernel.status, 200, JSON.stringify(kernel.body));
    const again = await agent(other, '/incident', reflection);
    t.not(again.body.incident_id, dns.body.incident_id);
    t.is((await rulesOf(again.body.incident_id)).length, 0);
    const [held] = await policyEvents(again.body.incident_id);
    t.deepEqual(held.data.rules, []);
    t.deepEqual(held.data.skipped, [{ source: '198.19.53.0/24', why: `a local rule of node ${other.id} of the same match is in force` }]);
  },
);
