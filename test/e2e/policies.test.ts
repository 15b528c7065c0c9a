// End to end, the server's own response: with the lab's response policies
// (scripts/lab/policies.ts) and no operator, each attack of the lab, from a
// real tool, is dropped by rules a policy made from its incident, within a
// generous bound; every such rule says which policy made it and why; none
// covers the legitimate client, which keeps being answered; and once the
// incident resolves the policies withdraw their rules from the kernel. The
// bars are measured in bench:e2e (BENCH_DROP=policy).

import test from 'ava';
import { contains, prefixOf } from '../../contract/net/prefix.ts';
import { ATTACKS, type LabRun, startLab } from '../../scripts/lab/index.ts';
import { createLabPolicies, LAB_POLICIES } from '../../scripts/lab/policies.ts';
import { playAttack, waitNoRules } from '../../scripts/lab/scenario.ts';
import { between } from '../../scripts/lab/timing.ts';
import { commands, isRoot, requireOrSkip } from '../helpers/privileged.ts';
import { canLoadXdp } from '../helpers/xdp.ts';
import { freshDataDir } from '../server/_harness.ts';

const THRESHOLD = 500;
const PPS = 8_000;
/** Onset to drop, generous: the bar (600 ms at 20x) is bench:e2e's. */
const DROP_WITHIN_MS = 3_000;

interface Rule {
  id: number;
  source: string;
  origin: string;
  policy_id: number | null;
  incident_id: number | null;
  reason: string;
}

if (requireOrSkip(test, isRoot, canLoadXdp, commands('trafgen', 'hping3', 'h2load', 'ip'))) {
  test.serial("every attack: dropped by the policies' own rules, which say why, and withdrawn after it", async (t) => {
    let run: LabRun | undefined;
    t.teardown(() => run?.close());
    run = await startLab({
      id: `p${process.pid % 10_000}`,
      subnet: 62,
      thresholdPps: THRESHOLD,
      dataDir: await freshDataDir(),
      agent: { args: ['--resolve-hold-ms', '2000'] },
    });
    await createLabPolicies(run, 120);
    const names = new Map(
      ((await run.user('GET', '/policies')).body.policies as { id: number; name: string }[]).map((p) => [p.id, p.name]),
    );
    t.deepEqual([...names.values()].sort(), LAB_POLICIES.map((p) => p.name).sort());
    await new Promise((r) => setTimeout(r, 3000)); // a calm node first

    for (const attack of ATTACKS) {
      const r = await playAttack(run, attack, { pps: PPS, seconds: 3, mitigation: 'policy', waitResolved: true });
      const rules = ((await run.user('GET', '/mitigations?limit=500')).body.rules as Rule[]).filter((x) => x.incident_id === r.incidentId);
      t.log(
        `${attack.key}: ${r.measuredPps} pps, incident ${r.toIncidentStoredMs} ms, dropped ${r.toDropMs} ms after onset; ` +
          `${rules.length} policy rules (${rules.map((x) => x.source).join(', ')}); ${r.notes.join('; ')}`,
      );
      t.is(r.family, attack.family, `${attack.key}: family`);
      t.true(r.toDropMs !== undefined && r.toDropMs <= DROP_WITHIN_MS, `${attack.key}: dropped ${r.toDropMs} ms after onset`);
      const after = between(run.observer.series, r.onsetAt! + r.toDropMs! + 50, r.endedAt!);
      t.true(after.dropped >= after.received * 0.9, `${attack.key}: ${after.dropped} of ${after.received} dropped after the rules`);
      t.true(rules.length >= 1, `${attack.key}: rules made for its incident`);
      for (const x of rules) {
        t.is(x.origin, 'policy');
        const name = names.get(x.policy_id ?? 0);
        t.truthy(name, `${attack.key}: rule ${x.id} names a policy of the workspace`);
        t.true(x.reason.includes(`policy "${name}"`) && x.reason.includes(`incident #${r.incidentId}`), x.reason);
        t.false(contains(prefixOf(x.source), prefixOf(run.net.clientIp)), `${attack.key}: ${x.source} spares the legitimate client`);
      }
      // Resolved with no grace: the withdrawal (every 5 s) takes them out of the kernel.
      t.true(await waitNoRules(run, 15_000), `${attack.key}: the policy rules left the kernel after the resolve`);
    }
    const bg = run.background.stats();
    t.log(`legitimate HTTP requests: ${bg.ok} answered, ${bg.failed} failed`);
    t.true(bg.ok > 100 && bg.failed <= bg.ok * 0.02, 'the legitimate client kept being served');
  });
}
