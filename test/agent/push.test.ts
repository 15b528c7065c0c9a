// The push channel in the lab, with the production poll periods (config
// every 60 s calm): a drop rule created through the user API is in the
// kernel within a second, so it came by push; its source is dropped; after
// the server restarts the agent connects again and the next rule comes by
// push too. With --no-push the same rule waits for the poll.
import test from 'ava';
import { deliverRule } from '../../scripts/lab/delivery.ts';
import { withdrawRule } from '../../scripts/lab/scenario.ts';
import { sleep } from '../../scripts/lab/wait.ts';
import { agentLab } from '../helpers/agent-lab.ts';
import { udpReached } from '../helpers/netns.ts';
import { commands, isRoot, requireOrSkip } from '../helpers/privileged.ts';
import { canLoadXdp } from '../helpers/xdp.ts';

if (requireOrSkip(test, isRoot, canLoadXdp, commands('trafgen', 'ip'))) {
  test.serial(
    'push: a rule in the kernel within a second with 60 s polling; again after a server restart; not with --no-push',
    async (t) => {
      const run = await agentLab(t, 'p', 48);
      let agent = run.startAgent([]);
      await agent.waitLog(/"msg":"push channel open"/, 15_000);

      const first = await deliverRule(run, '198.19.41.1');
      t.log(`POST answered -> rule in the kernel: ${first.ms?.toFixed(1)} ms`);
      t.true(first.ms !== undefined && first.ms < 1000, `by push, not by the 60 s poll (${first.ms} ms)`);
      t.is(udpReached(run.net, { count: 200, srcIp: '198.19.41.1' }), 0, 'its source is dropped');
      t.is(udpReached(run.net, { count: 50 }), 50, 'other sources pass');

      const again = agent.waitLog(/"msg":"push channel open","again":true/, 30_000);
      const r0 = Date.now();
      await run.server.restart();
      await again;
      const restartMs = Date.now() - r0;
      const second = await deliverRule(run, '198.19.41.2');
      const third = await deliverRule(run, '198.19.41.4');
      t.log(
        `the server back and the agent connected again in ${restartMs} ms; then by push: ${second.ms?.toFixed(1)} ms, then ${third.ms?.toFixed(1)} ms`,
      );
      t.true(second.ms !== undefined && second.ms < 1000, `by push again (${second.ms} ms)`);
      for (const r of [first, second, third]) t.true(await withdrawRule(run, r.ruleId), 'the withdrawal comes by push too');

      // Polling only: the rule waits for the next poll (60 s), longer than this test waits.
      agent.child.kill('SIGTERM');
      await agent.exited;
      agent = run.startAgent(['--no-push']);
      await agent.waitLog(/"msg":"(attached|adopted the pinned program)"/);
      await sleep(2000); // past its first poll, at start
      const polled = await deliverRule(run, '198.19.41.3', { waitMs: 3000 });
      t.is(polled.ms, undefined, 'not in the kernel within 3 s without push');
    },
  );
}
