// Local auto-mitigation switched per node from the server: an agent started
// without --auto-mitigate drops nothing by itself during a flood; after PUT
// /nodes/:id/auto-mitigation {on: true} (pushed) the next flood's offenders
// are dropped by the agent, and the server lists those rules as the
// kernel's, origin local; {on: null} gives the agent its own setting back.
import test from 'ava';
import { sleep, until } from '../../scripts/lab/wait.ts';
import { agentLab } from '../helpers/agent-lab.ts';
import { floodUdp } from '../helpers/netns.ts';
import { commands, isRoot, requireOrSkip } from '../helpers/privileged.ts';
import { canLoadXdp } from '../helpers/xdp.ts';

const BAD = ['198.19.9.1', '198.19.9.2', '198.19.9.3'];

if (requireOrSkip(test, isRoot, canLoadXdp, commands('trafgen', 'ip'))) {
  test.serial('auto-mitigation switched on from the server: the agent drops the offenders, the server sees the local rules', async (t) => {
    const run = await agentLab(t, 'am', 49);
    t.is((await run.user('PUT', `/nodes/${run.node.id}/threshold`, { pps_threshold: 1000 })).status, 200);
    const agent = run.startAgent(['--auto-mitigate-ttl', '120', '--resolve-hold-ms', '2000']);
    await agent.waitLog(/"msg":"push channel open"/, 15_000);

    await floodUdp(run.net, { pps: 20_000, seconds: 3, sources: BAD });
    t.deepEqual(run.kernel.listRules(), [], 'off by default: nothing dropped locally');
    await agent.waitLog(/"msg":"attack over"/, 20_000);

    const on = await run.user('PUT', `/nodes/${run.node.id}/auto-mitigation`, { on: true });
    t.like(on.body, { auto_mitigate: true });
    await agent.waitLog(/"msg":"local auto-mitigation on","from":"server"/, 5_000);
    await sleep(500);
    await floodUdp(run.net, { pps: 20_000, seconds: 3, sources: BAD });
    t.deepEqual(
      run.kernel
        .listRules()
        .map((r) => r.address)
        .sort(),
      BAD,
      'the offenders, dropped by the agent',
    );
    const seen = await until(async () => {
      const rules = (await run.user('GET', `/nodes/${run.node.id}/rules`)).body?.rules ?? [];
      return rules.length === BAD.length ? rules : undefined;
    }, 15_000);
    t.truthy(seen, 'the server lists them');
    t.true(
      (seen ?? []).every((r: { origin: string }) => r.origin === 'local'),
      JSON.stringify(seen),
    );

    t.like((await run.user('PUT', `/nodes/${run.node.id}/auto-mitigation`, { on: null })).body, { auto_mitigate: null });
    await agent.waitLog(/"msg":"local auto-mitigation off","from":"local setting"/, 5_000);
    t.is((await run.user('PUT', `/nodes/${run.node.id}/auto-mitigation`, { on: 'yes' })).status, 400);
  });
}
