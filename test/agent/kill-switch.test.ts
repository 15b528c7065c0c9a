// The kill switch in the lab (production poll periods: it comes by push):
// with a drop rule in force, PUT /nodes/:id/kill-switch {on: true} lets the
// rule's source through within a second while the kernel goes on counting
// its packets (the rule's hits, the logged counter); the gauge says so; off
// again, the source is dropped again within a second. The workspace's
// switch does the same. A log-only rule through the API counts its source's
// packets and drops none.
import test, { type ExecutionContext } from 'ava';
import { deliverRule } from '../../scripts/lab/delivery.ts';
import type { LabRun } from '../../scripts/lab/index.ts';
import { until } from '../../scripts/lab/wait.ts';
import { agentLab } from '../helpers/agent-lab.ts';
import { udpReached } from '../helpers/netns.ts';
import { commands, isRoot, requireOrSkip } from '../helpers/privileged.ts';
import { canLoadXdp } from '../helpers/xdp.ts';

const SOURCE = '198.19.42.1';

/** ms until 20-packet probes from SOURCE pass (or stop passing), probing every 20 ms for up to 5 s. */
function untilPassing(run: LabRun, passing: boolean): number | undefined {
  const t0 = performance.now();
  while (performance.now() - t0 < 5000) {
    if (udpReached(run.net, { count: 20, srcIp: SOURCE }) > 0 === passing) return performance.now() - t0;
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
  }
  return undefined;
}

async function flip(t: ExecutionContext, run: LabRun, path: string, on: boolean): Promise<number | undefined> {
  const res = await run.user('PUT', path, { on });
  t.is(res.status, 200, JSON.stringify(res.body));
  return untilPassing(run, on);
}

if (requireOrSkip(test, isRoot, canLoadXdp, commands('trafgen', 'ip'))) {
  test.serial('kill switch: drops stop within a second, counting goes on; off, they drop again', async (t) => {
    const run = await agentLab(t, 'ks', 46);
    const agent = run.startAgent([]);
    await agent.waitLog(/"msg":"push channel open"/, 15_000);
    t.truthy((await deliverRule(run, SOURCE)).ms, 'the rule in the kernel');
    t.is(udpReached(run.net, { count: 100, srcIp: SOURCE }), 0, 'dropped');
    const hits = () => run.kernel.listRules().find((r) => r.address === SOURCE)?.packets ?? 0;
    const logged = () => run.kernel.snapshot().counters.logged;

    const on = await flip(t, run, `/nodes/${run.node.id}/kill-switch`, true);
    t.log(`node kill switch on: the source passes ${on?.toFixed(0)} ms after the API answered`);
    t.true(on !== undefined && on < 1000, 'within a second');
    t.true(run.kernel.config().killSwitch);
    const [h0, l0] = [hits(), logged()];
    t.is(udpReached(run.net, { count: 100, srcIp: SOURCE }), 100, 'everything passes');
    t.true(hits() >= h0 + 100, `the rule still counts its hits (${h0} -> ${hits()})`);
    t.true(logged() >= l0 + 100, 'and the kernel counts them as logged');
    t.regex(await run.metrics(), /breakwater_node_kill_switch\{[^}]*\} 1/);

    const off = await flip(t, run, `/nodes/${run.node.id}/kill-switch`, false);
    t.log(`off: dropped again ${off?.toFixed(0)} ms after`);
    t.true(off !== undefined && off < 1000);

    const ws = await flip(t, run, '/workspace/kill-switch', true);
    t.log(`workspace kill switch on: passes ${ws?.toFixed(0)} ms after`);
    t.true(ws !== undefined && ws < 1000);
    t.true((await flip(t, run, '/workspace/kill-switch', false)) !== undefined);
    t.regex(await run.metrics(), /breakwater_node_kill_switch\{[^}]*\} 0/);

    // A log-only rule: counted, nothing dropped (its command reads -j LOG).
    const made = await run.user('POST', '/mitigations', { node_id: run.node.id, source: '198.19.42.2', ttl_seconds: 120, mode: 'log' });
    t.is(made.status, 201, JSON.stringify(made.body));
    t.is(made.body.action, 'log');
    const logRule = () => run.kernel.listRules().find((r) => r.address === '198.19.42.2');
    t.is((await until(() => logRule(), 5000, 5))?.mode, 'log', 'in the kernel as log-only');
    t.is(udpReached(run.net, { count: 100, srcIp: '198.19.42.2' }), 100, 'nothing dropped');
    t.true((logRule()?.packets ?? 0) >= 100, 'every packet counted');
  });
}
