// The server down for a minute loses no sample: the agent spools every
// sample on disk and replays them in order when the server is back.
import test from 'ava';
import { sleep, until } from '../../scripts/lab/wait.ts';
import { agentLab } from '../helpers/agent-lab.ts';
import { commands, isRoot, requireOrSkip } from '../helpers/privileged.ts';
import { canLoadXdp } from '../helpers/xdp.ts';

if (requireOrSkip(test, isRoot, canLoadXdp, commands('ip'))) {
  test.serial('a server outage loses no sample: spooled on disk, replayed in order', async (t) => {
    const run = await agentLab(t, 'o', 42);
    const agent = run.startAgent(['--heartbeat-ms', '2000', '--config-ms', '2000']);
    await agent.waitLog(/"msg":"attached"/);
    const series = async () => (await run.user('GET', `/nodes/${run.node.id}/metrics?limit=10000`)).body.samples as { t: string }[];
    t.truthy(await until(async () => (await series()).length >= 2, 10_000));

    const down = Date.now();
    await run.server.stop();
    await agent.waitLog(/"msg":"server unreachable, spooling"/, 5_000);
    await sleep(60_000);
    await run.server.restart();
    const up = Date.now();

    // Replayed: samples recorded during the outage arrive after it.
    const during = await until(async () => {
      const s = (await series()).filter((x) => Date.parse(x.t) > down + 500 && Date.parse(x.t) < up - 500);
      return s.length >= 55 ? s : undefined;
    }, 60_000);
    t.truthy(during, 'samples of the outage reached the server');

    await sleep(1_500);
    agent.child.kill('SIGTERM');
    const exit = await agent.exited;
    t.is(exit.code, 143);
    const stopped = JSON.parse(await agent.waitLog(/"msg":"stopped"/));
    const all = await series();
    t.log(`agent made ${stopped.samples} samples, server holds ${all.length}, left in spool ${stopped.spooled}; outage ${up - down} ms`);
    t.is(stopped.spooled, 0, 'spool drained');
    t.is(all.length, stopped.samples, 'every sample the agent made is at the server, none twice');
    const times = all.map((x) => Date.parse(x.t)).sort((a, b) => a - b);
    const gaps = times.slice(1).map((x, i) => x - times[i]!);
    t.true(Math.max(...gaps) < 1_600, `largest gap between consecutive samples ${Math.max(...gaps)} ms`);
  });
}
