// Agent + embedded server + veth lab: a spoofed UDP flood opens an incident
// of the right family at the server; a drop rule created through the user
// API reaches the agent as a pending command, stops the flood at the victim
// and is acknowledged.
import test from 'ava';
import { udpReached } from '../helpers/netns.ts';
import { commands, isRoot, requireOrSkip } from '../helpers/privileged.ts';
import { canLoadXdp } from '../helpers/xdp.ts';
import { floodUdp, sleep, until, world } from './_lab.ts';

if (requireOrSkip(test, isRoot, canLoadXdp, commands('trafgen', 'ip'))) {
  test.serial('a spoofed UDP flood opens a udp_flood incident; a pending drop command stops it and is acknowledged', async (t) => {
    const w = await world(t, `f${process.pid % 1000}`, 41);
    t.is((await w.user('PUT', `/nodes/${w.node.id}/threshold`, { pps_threshold: 1000 })).status, 200);
    const agent = w.startAgent(['--config-ms', '1000']);
    await agent.waitLog(/"msg":"attached"/);
    await until(async () => (await w.user('GET', `/nodes/${w.node.id}/metrics`)).body?.samples?.length >= 2, 10_000);

    // Quiet: no incident.
    t.deepEqual((await w.user('GET', '/incidents')).body.incidents, []);

    const t0 = Date.now();
    const flood = floodUdp(w.lab, { pps: 20_000, seconds: 3, spoofed: true });
    const line = await agent.waitLog(/"msg":"attack detected"/, 10_000);
    const detectMs = Date.now() - t0;
    t.log(`detected ${detectMs} ms after the flood started: ${line}`);
    t.regex(line, /"family":"udp_flood"/);
    const inc = await until(async () => (await w.user('GET', '/incidents')).body.incidents[0], 10_000);
    t.truthy(inc, 'incident at the server');
    t.is(inc.attack_family, 'udp_flood');
    t.is(inc.status, 'open');
    const full = (await w.user('GET', `/incidents/${inc.id}`)).body;
    t.log(JSON.stringify(full).slice(0, 800));
    t.true(full.peak_pps >= 5_000, `peak_pps ${full.peak_pps}`);
    t.true(full.source_ip_count > 100, `source_ip_count ${full.source_ip_count}`);
    await flood;

    // A drop rule through the user API; the agent applies and acknowledges it.
    const made = await w.user('POST', '/mitigations', { node_id: w.node.id, source: '198.19.0.0/16', protocol: 'udp', ttl_seconds: 600, reason: 'test' });
    t.is(made.status, 201, JSON.stringify(made.body));
    const active = await until(async () => {
      const r = (await w.user('GET', `/mitigations/${made.body.id}`)).body;
      return r.state === 'active' ? r : undefined;
    }, 15_000);
    t.truthy(active, 'the command was acknowledged as applied');
    await agent.waitLog(/"msg":"command applied"/);

    // The flood no longer reaches the victim; the attacker's own address still does.
    t.is(udpReached(w.lab, { count: 2000, srcIp: '198.19.7.7' }), 0, 'spoofed flood stopped in XDP');
    t.is(udpReached(w.lab, { count: 100 }), 100, 'other traffic passes');

    // A command that would drop the server's address is refused and acknowledged as failed.
    const bad = await w.user('POST', '/mitigations', { node_id: w.node.id, source: '127.0.0.0/16', ttl_seconds: 60 });
    t.is(bad.status, 201);
    const failed = await until(async () => {
      const r = (await w.user('GET', `/mitigations/${bad.body.id}`)).body;
      return r.state === 'failed' ? r : undefined;
    }, 15_000);
    t.truthy(failed);
    t.regex(failed.nodes[0].reason, /server address 127\.0\.0\.1/);

    // The incident resolves after the hold time.
    await sleep(100);
    agent.child.kill('SIGTERM');
    const exit = await agent.exited;
    t.is(exit.code, 143, 'exit status reflects SIGTERM');
  });
}
