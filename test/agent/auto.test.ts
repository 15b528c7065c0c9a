// Local auto-mitigation (switched on here; off by default): during a flood
// from a few sources the agent drops the heaviest ones itself, with a TTL,
// and never a source that carried normal traffic before the attack; a
// spoofed flood on a UDP port no socket of the host uses is dropped by port.
import test from 'ava';
import { PinnedView } from '../../native/index.ts';
import { sleep } from '../../scripts/lab/wait.ts';
import { agentLab } from '../helpers/agent-lab.ts';
import { floodUdp, udpReached } from '../helpers/netns.ts';
import { commands, isRoot, requireOrSkip } from '../helpers/privileged.ts';
import { canLoadXdp } from '../helpers/xdp.ts';

if (requireOrSkip(test, isRoot, canLoadXdp, commands('trafgen', 'ip'))) {
  test.serial('auto-mitigation drops the top offenders, never a source seen before the attack', async (t) => {
    const run = await agentLab(t, 'a', 44, { autoMitigate: true });
    t.is((await run.user('PUT', `/nodes/${run.node.id}/threshold`, { pps_threshold: 1000 })).status, 200);
    const agent = run.startAgent(['--auto-mitigate-ttl', '120', '--config-ms', '1000']);
    await agent.waitLog(/"msg":"attached"/);
    // Normal traffic from the attacker's own address first: it becomes a known source.
    await floodUdp(run.net, { pps: 200, seconds: 3 });

    const bad = ['198.19.5.1', '198.19.5.2', '198.19.5.3', '198.19.5.4'];
    const flood = floodUdp(run.net, { pps: 30_000, seconds: 4, sources: [...bad, ...bad, run.net.attackerIp] });
    await agent.waitLog(/"msg":"attack detected"/, 10_000);
    const line = JSON.parse(await agent.waitLog(/"msg":"auto-mitigation dropped sources"/, 10_000));
    await flood;
    t.log(line);
    t.is(line.ttl, 120);

    const view = PinnedView.open(run.net.victimIf, { netns: run.net.victimNs });
    const rules = view.listRules();
    view.close();
    const dropped = rules.map((r) => r.address).sort();
    t.deepEqual(dropped, bad, 'exactly the offenders');
    t.true(
      rules.every((r) => r.prefixLen === 32 && r.expiresAt > Date.now() && r.expiresAt <= Date.now() + 121_000),
      'with the TTL',
    );

    t.is(udpReached(run.net, { count: 500, srcIp: '198.19.5.3' }), 0, 'an offender is dropped');
    t.is(udpReached(run.net, { count: 100 }), 100, 'the source seen before the attack is not');
    agent.child.kill('SIGTERM');
    t.is((await agent.exited).code, 143);
  });
}

if (requireOrSkip(test, isRoot, canLoadXdp, commands('trafgen', 'ip'))) {
  test.serial('a spoofed UDP flood on a closed port is dropped by port from every source; on a port in use it is not', async (t) => {
    const run = await agentLab(t, 's', 45, { autoMitigate: true });
    t.is((await run.user('PUT', `/nodes/${run.node.id}/threshold`, { pps_threshold: 1000 })).status, 200);
    // A UDP service on port 5353 in the victim (also: a process there, so the agent can read its sockets).
    const service = run.net.spawn(run.net.victimNs, [
      'timeout',
      '120',
      process.execPath,
      '-e',
      `require('dgram').createSocket('udp4').bind(5353, '${run.net.victimIp}'); setInterval(() => {}, 1000)`,
    ]);
    t.teardown(() => {
      service.kill('SIGKILL');
    });
    await sleep(500);
    const agent = run.startAgent(['--auto-mitigate-ttl', '60', '--config-ms', '1000', '--resolve-hold-ms', '2000']);
    await agent.waitLog(/"msg":"attached"/);
    const view = () => {
      const v = PinnedView.open(run.net.victimIf, { netns: run.net.victimNs });
      try {
        return v.listRules();
      } finally {
        v.close();
      }
    };

    await floodUdp(run.net, { pps: 20_000, seconds: 2, spoofed: true, dport: 5353 });
    await agent.waitLog(/"msg":"attack over"/, 15_000);
    t.deepEqual(view(), [], 'a port the host serves is never dropped from everyone');

    await floodUdp(run.net, { pps: 20_000, seconds: 2, spoofed: true, dport: 27015 });
    const line = JSON.parse(await agent.waitLog(/"msg":"auto-mitigation dropped a signature"/, 10_000));
    t.deepEqual(line.rules, ['0.0.0.0/0 udp:27015', '::/0 udp:27015']);
    const rules = view();
    t.deepEqual(rules.map((r) => `${r.address}/${r.prefixLen} ${r.protocol}:${r.port}`).sort(), ['0.0.0.0/0 udp:27015', '::/0 udp:27015']);
    t.true(rules[0]!.packets > 1000, `the rule dropped the flood (${rules[0]!.packets} hits)`);
    // Paced probes (200 packets a second, a fifth of the threshold): sent back to back, 300 packets from
    // one source in a millisecond while the incident is open look like a flood of their own, and the
    // surge path had auto-mitigation drop that source before the service's probe went out.
    t.is(
      udpReached(
        run.net,
        { count: 40, srcIp: '198.19.77.7', dport: 27015, gapMs: 5 },
        { count: 20, srcIp: '198.19.77.7', dport: 5353, gapMs: 5 },
      ),
      20,
      'the closed port is dropped, the service still reached',
    );
    agent.child.kill('SIGTERM');
    t.is((await agent.exited).code, 143);
  });
}
