// kill -9 of the agent keeps the rules enforcing (they live in the kernel,
// pinned), a restarted agent adopts the program with its rules, and
// `agent detach` removes everything.

import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import test from 'ava';
import { Breakwater, PinnedView } from '../../native/index.ts';
import { agentCommand } from '../../scripts/lab/index.ts';
import { until } from '../../scripts/lab/wait.ts';
import { agentLab } from '../helpers/agent-lab.ts';
import { udpReached } from '../helpers/netns.ts';
import { commands, isRoot, requireOrSkip } from '../helpers/privileged.ts';
import { canLoadXdp } from '../helpers/xdp.ts';

if (requireOrSkip(test, isRoot, canLoadXdp, commands('trafgen', 'ip'))) {
  test.serial('kill -9 and restart: the rules keep enforcing, the new agent adopts them; detach removes all', async (t) => {
    const run = await agentLab(t, 'k', 43);
    const first = run.startAgent(['--config-ms', '1000', '--allow', '198.19.200.0/24']);
    await first.waitLog(/"msg":"attached"/);
    const made = await run.user('POST', '/mitigations', {
      node_id: run.node.id,
      source: '198.19.0.0/17',
      protocol: 'udp',
      ttl_seconds: 600,
    });
    t.is(made.status, 201);
    t.truthy(await until(async () => (await run.user('GET', `/mitigations/${made.body.id}`)).body.state === 'active', 15_000));

    const check = (label: string) => {
      t.is(udpReached(run.net, { count: 1000, srcIp: '198.19.1.1' }), 0, `${label}: dropped`);
      t.is(udpReached(run.net, { count: 50 }), 50, `${label}: other sources pass`);
    };
    check('agent running');

    first.child.kill('SIGKILL');
    const gone = await first.exited;
    t.is(gone.signal, 'SIGKILL');
    check('no agent at all');

    const second = run.startAgent(['--config-ms', '1000', '--allow', '198.19.200.0/24']);
    const adopted = JSON.parse(await second.waitLog(/"msg":"adopted the pinned program"/));
    t.is(adopted.rules, 1, 'the rule is still in the kernel');
    check('restarted agent');

    // In this quiet lab the agent samples every packet into the talker tables.
    const view = PinnedView.open(run.net.victimIf, { netns: run.net.victimNs });
    t.teardown(() => view.close());
    t.truthy(await until(async () => view.config().talkerSamplePeriod === 1, 5_000), 'the quiet lab is sampled at 1 in 1');

    // SIGTERM leaves program and rules in place (no --detach-on-exit).
    second.child.kill('SIGTERM');
    t.is((await second.exited).code, 143);
    check('after a clean stop');

    // The local allowlist went into the kernel's allowlist.
    const bw = Breakwater.attach(run.net.victimIf, { netns: run.net.victimNs });
    t.deepEqual(
      bw.listAllow().map((a) => `${a.address}/${a.prefixLen}`),
      ['198.19.200.0/24'],
    );
    // The program left behind samples at its cheapest.
    t.is(bw.config().talkerSamplePeriod, 64);
    bw.close();

    const pins = `/sys/fs/bpf/breakwater/netns-${run.net.victimNs}/${run.net.victimIf}`;
    t.true(existsSync(pins), pins);
    const r = spawnSync(process.execPath, [...agentCommand('source'), 'detach', '--iface', run.net.victimIf, '--netns', run.net.victimNs], {
      encoding: 'utf8',
    });
    t.is(r.status, 0, r.stderr);
    t.false(existsSync(pins), 'pins removed');
    t.is(udpReached(run.net, { count: 100, srcIp: '198.19.1.1' }), 100, 'nothing drops after detach');
  });
}
