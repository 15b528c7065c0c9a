// Agent + embedded server + veth lab (scripts/lab: a quiet lab, the agent from
// its sources with production poll periods): a spoofed UDP flood opens an incident
// of the right family at the server; a drop rule created through the user
// API reaches the agent as a pending command, stops the flood at the victim
// and is acknowledged.
import test from 'ava';
import { sleep, until } from '../../scripts/lab/wait.ts';
import { agentLab } from '../helpers/agent-lab.ts';
import { floodUdp, udpReached } from '../helpers/netns.ts';
import { commands, isRoot, requireOrSkip } from '../helpers/privileged.ts';
import { canLoadXdp } from '../helpers/xdp.ts';

if (requireOrSkip(test, isRoot, canLoadXdp, commands('trafgen', 'ip'))) {
  test.serial('a spoofed UDP flood opens a udp_flood incident; a pending drop command stops it and is acknowledged', async (t) => {
    const run = await agentLab(t, 'f', 41);
    t.is((await run.user('PUT', `/nodes/${run.node.id}/threshold`, { pps_threshold: 1000 })).status, 200);
    const agent = run.startAgent(['--config-ms', '1000', '--allow', '198.18.254.0/24']);
    await agent.waitLog(/"msg":"attached"/);
    await until(async () => (await run.user('GET', `/nodes/${run.node.id}/metrics`)).body?.samples?.length >= 2, 10_000);

    // Quiet: no incident.
    t.deepEqual((await run.user('GET', '/incidents')).body.incidents, []);

    const t0 = Date.now();
    const flood = floodUdp(run.net, { pps: 20_000, seconds: 3, spoofed: true });
    const line = await agent.waitLog(/"msg":"attack detected"/, 10_000);
    const detectMs = Date.now() - t0;
    t.log(`detected ${detectMs} ms after the flood started: ${line}`);
    t.regex(line, /"family":"udp_flood"/);
    const inc = await until(async () => (await run.user('GET', '/incidents')).body.incidents[0], 10_000);
    t.truthy(inc, 'incident at the server');
    t.is(inc.attack_family, 'udp_flood');
    t.is(inc.status, 'open');
    const full = (await run.user('GET', `/incidents/${inc.id}`)).body;
    t.log(JSON.stringify(full).slice(0, 800));
    t.true(full.peak_pps >= 5_000, `peak_pps ${full.peak_pps}`);
    t.true(full.source_ip_count > 100, `source_ip_count ${full.source_ip_count}`);
    await flood;

    // A drop rule through the user API; the agent applies and acknowledges it.
    const made = await run.user('POST', '/mitigations', {
      node_id: run.node.id,
      source: '198.19.0.0/16',
      protocol: 'udp',
      ttl_seconds: 600,
      reason: 'test',
    });
    t.is(made.status, 201, JSON.stringify(made.body));
    const active = await until(async () => {
      const r = (await run.user('GET', `/mitigations/${made.body.id}`)).body;
      return r.state === 'active' ? r : undefined;
    }, 15_000);
    t.truthy(active, 'the command was acknowledged as applied');
    await agent.waitLog(/"msg":"command applied"/);

    // The flood no longer reaches the victim; the attacker's own address still does.
    t.is(udpReached(run.net, { count: 2000, srcIp: '198.19.7.7' }), 0, 'spoofed flood stopped in XDP');
    t.is(udpReached(run.net, { count: 100 }), 100, 'other traffic passes');

    // A rule on the server's own address (loopback here) is refused by the server, in the agent's words;
    // one the server cannot know to be unsafe (the agent's local allowlist) is refused by the agent and acknowledged as failed.
    const loop = await run.user('POST', '/mitigations', { node_id: run.node.id, source: '127.0.0.0/16', ttl_seconds: 60 });
    t.is(loop.status, 400);
    t.regex(loop.body.error.message, /^source: .*\(loopback\)/);
    const bad = await run.user('POST', '/mitigations', { node_id: run.node.id, source: '198.18.254.0/24', ttl_seconds: 60 });
    t.is(bad.status, 201);
    const failed = await until(async () => {
      const r = (await run.user('GET', `/mitigations/${bad.body.id}`)).body;
      return r.state === 'failed' ? r : undefined;
    }, 15_000);
    t.truthy(failed);
    t.regex(failed.nodes[0].reason, /would drop the allowlist address 198\.18\.254\.0\/24/);

    // The incident resolves after the hold time.
    await sleep(100);
    agent.child.kill('SIGTERM');
    const exit = await agent.exited;
    t.is(exit.code, 143, 'exit status reflects SIGTERM');
  });
}
