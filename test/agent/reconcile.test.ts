// The server sees the kernel: the agent reports the rule a command put there
// (origin, server rule id, hits); after kill -9, `agent detach` and a new
// agent on the empty interface, the server finds the rule missing from the
// new agent's first report, issues its command again, the push channel
// brings it, and the kernel drops again; the rule says it was sent again.
import { spawnSync } from 'node:child_process';
import test from 'ava';
import { agentCommand } from '../../scripts/lab/index.ts';
import { until } from '../../scripts/lab/wait.ts';
import { agentLab } from '../helpers/agent-lab.ts';
import { udpReached } from '../helpers/netns.ts';
import { commands, isRoot, requireOrSkip } from '../helpers/privileged.ts';
import { canLoadXdp } from '../helpers/xdp.ts';

if (requireOrSkip(test, isRoot, canLoadXdp, commands('trafgen', 'ip'))) {
  test.serial('after kill -9, detach and restart, the server sends the missing rule again and the kernel holds it', async (t) => {
    const run = await agentLab(t, 'rc', 49);
    const first = run.startAgent([]);
    await first.waitLog(/"msg":"push channel open"/);
    const made = await run.user('POST', '/mitigations', {
      node_id: run.node.id,
      source: '198.19.0.0/17',
      protocol: 'udp',
      ttl_seconds: 600,
    });
    t.is(made.status, 201);
    const kernel = async () => (await run.user('GET', `/nodes/${run.node.id}/rules`)).body;
    const held = (k: { rules: { source: string }[] }) => k.rules.find((r) => r.source === '198.19.0.0/17');
    t.truthy(await until(async () => held(await kernel()) !== undefined, 10_000), 'reported once applied');
    t.like(held(await kernel()), { origin: 'command', rule_id: made.body.id, protocol: 'udp', mode: 'drop' });
    t.like(await kernel(), { attached: true, fresh: true, kill_switch: false });
    t.is(udpReached(run.net, { count: 500, srcIp: '198.19.1.1' }), 0, 'dropped');
    // Another change brings the hits with the next report.
    await run.user('POST', '/mitigations', { node_id: run.node.id, source: '198.19.128.0/17', ttl_seconds: 600 });
    t.truthy(await until(async () => ((held(await kernel()) as { packets?: number })?.packets ?? 0) >= 500, 10_000), 'hits reported');

    first.child.kill('SIGKILL');
    await first.exited;
    const r = spawnSync(process.execPath, [...agentCommand('source'), 'detach', '--iface', run.net.victimIf, '--netns', run.net.victimNs], {
      encoding: 'utf8',
    });
    t.is(r.status, 0, r.stderr);
    t.is(udpReached(run.net, { count: 100, srcIp: '198.19.1.1' }), 100, 'nothing drops after detach');

    const started = Date.now();
    const second = run.startAgent([]);
    await second.waitLog(/"msg":"attached"/);
    const node = async () => (await run.user('GET', `/mitigations/${made.body.id}`)).body.nodes[0];
    // Its first report lacks the rule: the command again, then applied, then reported held.
    t.truthy(await until(async () => (await node()).reissued === 1, 15_000), 'issued again');
    t.truthy(
      await until(async () => {
        const n = await node();
        return n.state === 'active' && n.kernel?.present === true;
      }, 15_000),
      'applied and held',
    );
    t.log(`the rule was back in the kernel and reported ${Date.now() - started} ms after the new agent started`);
    t.truthy(await second.waitLog(/"msg":"command applied"/));
    t.is(udpReached(run.net, { count: 500, srcIp: '198.19.1.1' }), 0, 'dropped again');
    t.like(held(await kernel()), { origin: 'command', rule_id: made.body.id });
    t.is((await node()).reissued, 1, 'once');
    // Adapter health follows the report.
    t.regex(await run.metrics(), /mitigation_adapter_healthy\{[^}]*type="xdp"[^}]*\} 1/);
  });
}
