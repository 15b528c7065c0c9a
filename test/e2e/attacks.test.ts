// End to end, in the lab of scripts/lab: each attack, from a real tool,
// opens one incident of the right family at the server; a drop rule created
// through the user API reaches the agent and stops the flood at the victim;
// the incident resolves after the flood; /api/metrics shows the node under
// attack, then not; and nothing is left behind.

import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import test from 'ava';
import { ATTACKS, type LabRun, startLab } from '../../scripts/lab/index.ts';
import { playAttack, withdrawRule } from '../../scripts/lab/scenario.ts';
import { between } from '../../scripts/lab/timing.ts';
import { commands, isRoot, requireOrSkip } from '../helpers/privileged.ts';
import { canLoadXdp } from '../helpers/xdp.ts';
import { freshDataDir } from '../server/_harness.ts';

const THRESHOLD = 500;
const PPS = 8_000;

function gauge(text: string, name: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`breakwater_${name}{`));
  return line === undefined ? undefined : Number(line.split(' ').pop());
}

if (requireOrSkip(test, isRoot, canLoadXdp, commands('trafgen', 'hping3', 'ping', 'ip'))) {
  test.serial('every attack: one incident of its family, stopped by a user-API rule, resolved, shown in /api/metrics', async (t) => {
    const id = `e${process.pid % 10_000}`;
    let run: LabRun | undefined;
    t.teardown(async () => {
      await run?.close();
    });
    run = await startLab({ id, subnet: 61, thresholdPps: THRESHOLD, dataDir: await freshDataDir() });
    // The agent's first samples: a calm node.
    await new Promise((r) => setTimeout(r, 2500));
    t.is(gauge(await run.metrics(), 'nodes_under_attack'), 0);

    for (const attack of ATTACKS) {
      let underAttack: number | undefined;
      const r = await playAttack(run, attack, {
        pps: PPS,
        seconds: 4,
        mitigation: 'api',
        waitResolved: true,
        onIncident: async () => {
          underAttack = gauge(await run!.metrics(), 'nodes_under_attack');
        },
      });
      t.log(
        `${attack.key}: ${r.measuredPps} pps, incident ${r.toIncidentMs} ms, dropped ${r.toDropMs} ms, resolved ${r.toResolvedMs} ms after onset; ${r.family}/${r.severity}; ${r.notes.join('; ')}`,
      );
      if (r.family !== attack.family) t.log(JSON.stringify((await run.user('GET', `/incidents/${r.incidentId}`)).body));
      t.is(r.family, attack.family, `${attack.key}: family`);
      t.truthy(r.toIncidentMs, `${attack.key}: an incident during the flood`);
      t.is(underAttack, 1, `${attack.key}: /api/metrics shows the node under attack`);
      const incidents = (await run.user('GET', `/incidents?node_id=${run.node.id}&limit=100`)).body.incidents;
      t.is(incidents.filter((i: any) => i.id >= (r.incidentId ?? 0)).length, 1, `${attack.key}: exactly one incident`);
      t.truthy(r.toDropMs, `${attack.key}: the flood was dropped (${r.notes.join('; ')})`);
      // From the drop on, the flood no longer reaches the victim's IP layer.
      const after = between(run.observer.series, r.onsetAt! + r.toDropMs! + 50, r.endedAt!);
      t.true(after.dropped >= after.received * 0.9, `${attack.key}: ${after.dropped} of ${after.received} dropped after the rule`);
      t.truthy(r.toResolvedMs, `${attack.key}: the incident resolved`);
      t.is(gauge(await run.metrics(), 'nodes_under_attack'), 0, `${attack.key}: no longer under attack`);
      t.true(await withdrawRule(run, r.ruleId!), `${attack.key}: the rule was withdrawn from the kernel`);
    }
    const bg = run.background.stats();
    t.log(`legitimate HTTP requests: ${bg.ok} answered, ${bg.failed} failed`);
    t.true(bg.ok > 100 && bg.failed <= bg.ok * 0.02, 'the legitimate client kept being served');

    await run.close();
    run = undefined;
    const netns = execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' });
    t.false(netns.includes(`bwv-${id}`) || netns.includes(`bwa-${id}`), 'namespaces removed');
    t.false(fs.existsSync(`/sys/fs/bpf/breakwater/netns-bwv-${id}`), 'pins removed');
    t.false(fs.existsSync(`/run/breakwater-lab/${id}.json`), 'run record removed');
  });
}
