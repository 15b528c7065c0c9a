// Local auto-mitigation (switched on here; off by default): during a flood
// from a few sources the agent drops the heaviest ones itself, with a TTL,
// and never a source that carried normal traffic before the attack.
import test from 'ava';
import { Breakwater } from '../../native/index.ts';
import { sendUdp, udpDelivered } from '../helpers/netns.ts';
import { commands, isRoot, requireOrSkip } from '../helpers/privileged.ts';
import { canLoadXdp } from '../helpers/xdp.ts';
import { floodUdp, world } from './_lab.ts';

if (requireOrSkip(test, isRoot, canLoadXdp, commands('trafgen', 'ip'))) {
  test.serial('auto-mitigation drops the top offenders, never a source seen before the attack', async (t) => {
    const w = await world(t, `a${process.pid % 1000}`, 44);
    t.is((await w.user('PUT', `/nodes/${w.node.id}/threshold`, { pps_threshold: 1000 })).status, 200);
    const agent = w.startAgent(['--auto-mitigate', '--auto-mitigate-ttl', '120', '--config-ms', '1000']);
    await agent.waitLog(/"msg":"attached"/);
    // Normal traffic from the attacker's own address first: it becomes a known source.
    await floodUdp(w.lab, { pps: 200, seconds: 3 });

    const bad = ['198.19.5.1', '198.19.5.2', '198.19.5.3', '198.19.5.4'];
    const flood = floodUdp(w.lab, { pps: 30_000, seconds: 4, sources: [...bad, ...bad, w.lab.attackerIp] });
    await agent.waitLog(/"msg":"attack detected"/, 10_000);
    const line = JSON.parse(await agent.waitLog(/"msg":"auto-mitigation dropped sources"/, 10_000));
    await flood;
    t.log(line);
    t.is(line.ttl, 120);

    const bw = Breakwater.attach(w.lab.victimIf, { netns: w.lab.victimNs });
    const rules = bw.listRules();
    bw.close();
    const dropped = rules.map((r) => r.address).sort();
    t.deepEqual(dropped, bad, 'exactly the offenders');
    t.true(rules.every((r) => r.prefixLen === 32 && r.expiresAt > Date.now() && r.expiresAt <= Date.now() + 121_000), 'with the TTL');

    let before = udpDelivered(w.lab);
    sendUdp(w.lab, { count: 500, srcIp: '198.19.5.3' });
    t.is(udpDelivered(w.lab) - before, 0, 'an offender is dropped');
    before = udpDelivered(w.lab);
    sendUdp(w.lab, { count: 100 });
    t.is(udpDelivered(w.lab) - before, 100, 'the source seen before the attack is not');
    agent.child.kill('SIGTERM');
    t.is((await agent.exited).code, 143);
  });
}
