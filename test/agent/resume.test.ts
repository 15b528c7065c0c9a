// An agent killed (kill -9) in the middle of an attack: started again while
// the flood goes on, it resumes the same incident at the server (no second
// one) and resolves it after the flood; started again after the flood, it
// resolves the incident it left open within its hold time. Either way the
// node is not left "under attack".
import test, { type ExecutionContext } from 'ava';
import type { LabRun } from '../../scripts/lab/index.ts';
import { until } from '../../scripts/lab/wait.ts';
import { agentLab } from '../helpers/agent-lab.ts';
import { floodUdp } from '../helpers/netns.ts';
import { commands, isRoot, requireOrSkip } from '../helpers/privileged.ts';
import { canLoadXdp } from '../helpers/xdp.ts';

const FLAGS = ['--config-ms', '1000', '--resolve-hold-ms', '3000'];

async function openIncident(t: ExecutionContext, run: LabRun): Promise<any> {
  const inc = await until(async () => (await run.user('GET', '/incidents?status=open')).body.incidents[0], 10_000);
  t.truthy(inc, 'an incident at the server');
  return inc;
}

const incidents = async (run: LabRun) => (await run.user('GET', `/incidents?node_id=${run.node.id}&limit=100`)).body.incidents as any[];
const resolved = (run: LabRun, id: number, ms: number) =>
  until(async () => ((await run.user('GET', `/incidents/${id}`)).body.status === 'resolved' ? true : undefined), ms);

if (requireOrSkip(test, isRoot, canLoadXdp, commands('trafgen', 'ip'))) {
  test.serial('kill -9 mid-attack: the restarted agent resumes the incident if the flood goes on, else resolves it', async (t) => {
    const run = await agentLab(t, 'r', 47);
    t.is((await run.user('PUT', `/nodes/${run.node.id}/threshold`, { pps_threshold: 1000 })).status, 200);

    // Restarted during the flood: the same incident, updated by the new agent, resolved after the flood.
    let agent = run.startAgent(FLAGS);
    await agent.waitLog(/"msg":"attached"/);
    let flood = floodUdp(run.net, { pps: 20_000, seconds: 12, spoofed: true });
    const a = await openIncident(t, run);
    agent.child.kill('SIGKILL');
    await agent.exited;
    agent = run.startAgent(FLAGS);
    const line = await agent.waitLog(/"msg":"resumed the incident/, 10_000);
    t.log(line);
    const killedAt = Date.now();
    t.truthy(
      await until(async () => {
        const cur = (await run.user('GET', `/incidents/${a.id}`)).body;
        return cur.status === 'open' && Date.parse(cur.updated_at) >= killedAt ? true : undefined;
      }, 10_000),
      'the resumed incident is updated by the new agent',
    );
    await flood;
    t.truthy(await resolved(run, a.id, 15_000), 'resolved after the flood');
    t.is((await incidents(run)).length, 1, 'one incident for the one attack');

    // Killed during the flood and started after it: the left incident is resolved.
    flood = floodUdp(run.net, { pps: 20_000, seconds: 4, spoofed: true });
    const b = await openIncident(t, run);
    t.not(b.id, a.id);
    agent.child.kill('SIGKILL');
    await agent.exited;
    await flood;
    const startedAt = Date.now();
    agent = run.startAgent(FLAGS);
    await agent.waitLog(/"msg":"the incident open when the agent last stopped is over: resolved"/, 15_000);
    t.truthy(await resolved(run, b.id, 10_000), 'resolved at the server');
    t.log(`the left incident resolved ${Date.now() - startedAt} ms after the agent started`);
    t.is((await incidents(run)).length, 2, 'and nothing new opened');
  });
}
