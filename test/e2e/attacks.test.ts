// End to end, in the lab of scripts/lab: each attack, from a real tool,
// opens one incident of the right family at the server; a drop rule created
// through the user API reaches the agent and stops the flood at the victim;
// the incident resolves after the flood; /api/metrics shows the node under
// attack, then not; its packet capture is at the server within 10 s of the
// onset, tshark reads every part, and it holds the seconds before the onset
// and the flood's own packets, the first of them and the first one dropped
// within 50 ms of the lab's onset and drop; its sub-type, countries (the
// lab's test database), IOC matches and botnet_detected are the attack's;
// and nothing is left behind.

import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { saveCaptures } from '../../scripts/lab/captures.ts';
import { ATTACKS, type Attack, type LabRun, startLab } from '../../scripts/lab/index.ts';
import { type AttackResult, playAttack, withdrawRule } from '../../scripts/lab/scenario.ts';
import { between } from '../../scripts/lab/timing.ts';
import { captureFacts } from '../helpers/capture-facts.ts';
import { checkForensics } from '../helpers/forensics.ts';
import { statistics, tsharkPackets } from '../helpers/pcapng.ts';
import { commands, isRoot, requireOrSkip } from '../helpers/privileged.ts';
import { canLoadXdp } from '../helpers/xdp.ts';
import { freshDataDir } from '../server/_harness.ts';

const THRESHOLD = 500;
const PPS = 8_000;

function gauge(text: string, name: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`breakwater_${name}{`));
  return line === undefined ? undefined : Number(line.split(' ').pop());
}

/** The incident's capture: at the server in time, read by tshark, before-onset and flood packets, on the lab's clock. */
async function checkCapture(t: ExecutionContext, run: LabRun, attack: Attack, r: AttackResult, dir: string): Promise<void> {
  const parts = r.captures ?? [];
  t.true(parts.length >= 1, `${attack.key}: a capture at the server`);
  t.true(r.toCaptureMs !== undefined && r.toCaptureMs <= 10_000, `${attack.key}: the first part ${r.toCaptureMs} ms after onset`);
  // The parts as the demo leaves them: one file, a pcapng section per part.
  const saved = (await saveCaptures(run, [r], dir)).get(r);
  if (!saved) return;
  const packets = tsharkPackets(saved.file);
  t.is(packets.length, saved.packets, `${attack.key}: tshark reads every part whole`);
  const isbs = statistics(saved.file);
  t.is(isbs.length, parts.length, `${attack.key}: a statistics block closes each part`);
  const lost = isbs.reduce((n, s) => n + ((s.get(5) as bigint | undefined) ?? 0n), 0n);
  const f = captureFacts(packets, attack, r.onsetAt!);
  const drop = r.onsetAt! + r.toDropMs!;
  const off = (v: number | undefined, ref: number) => (v === undefined ? 'none' : `${Math.round(v - ref)} ms`);
  t.log(
    `${attack.key} capture (onset read within ${r.onsetIntervalMs} ms): part 1 at the server ${r.toCaptureMs} ms after onset; ${parts.map((c) => `${c.packets} packets in ${c.size} bytes`).join(', ')}; ${lost} samples lost; ` +
      `${f.before} before the onset (from ${f.beforeFromMs} to ${f.beforeToMs} ms before it), ${f.flood} of the flood; ` +
      `first flood packet ${off(f.firstFloodMs, r.onsetAt!)} from the onset, first dropped ${off(f.firstDropMs, drop)} from the drop`,
  );
  t.true(f.before >= 100 && f.beforeFromMs! >= 5000 && f.beforeToMs! <= 1000, `${attack.key}: the seconds before the onset`);
  t.true(f.flood >= 500, `${attack.key}: the flood's own packets (${f.flood})`);
  // The lab's onset is where the victim first receives at the flood's rate, within one reading of its observer
  // (5 ms, longer when the test's own process is busy); a generator may send a few packets before it gets going,
  // but none before it was started. The drop below is the sharp edge that pins the capture's clock to the lab's
  // within 50 ms; this one is softer (in one CI run the first flood packet lay 60 ms after the onset, cause not
  // found: the message says what the capture holds in between, and how many samples the kernel lost).
  const fromOnset = f.firstFloodMs! - r.onsetAt!;
  const fromStart = f.firstFloodMs! - r.startedAt!;
  t.true(
    fromStart >= -50 && fromOnset <= r.onsetIntervalMs! + 100,
    `${attack.key}: the first flood packet ${Math.round(fromOnset)} ms from the onset (read within ${r.onsetIntervalMs} ms), ` +
      `${Math.round(fromStart)} ms after the generator started; between the onset and it: ${f.between}; ${lost} samples lost`,
  );
  const fromDrop = f.firstDropMs === undefined ? Number.NaN : f.firstDropMs - drop;
  t.true(
    fromDrop >= -r.dropIntervalMs! - 50 && fromDrop <= 50,
    `${attack.key}: the first drop verdict ${Math.round(fromDrop)} ms from the drop, read within ${r.dropIntervalMs} ms before it`,
  );
  t.true(f.droppedAfter >= 0.9, `${attack.key}: ${Math.round(f.droppedAfter * 100)}% of the flood dropped after the rule`);
}

if (requireOrSkip(test, isRoot, canLoadXdp, commands('trafgen', 'hping3', 'ping', 'ip', 'tshark'))) {
  test.serial('every attack: one incident of its family, stopped by a user-API rule, resolved, shown in /api/metrics', async (t) => {
    const id = `e${process.pid % 10_000}`;
    let run: LabRun | undefined;
    const captures = fs.mkdtempSync(path.join(os.tmpdir(), 'bw-e2e-captures-'));
    t.teardown(async () => {
      await run?.close();
      fs.rmSync(captures, { recursive: true, force: true });
    });
    run = await startLab({ id, subnet: 61, thresholdPps: THRESHOLD, dataDir: await freshDataDir() });
    // The agent's first samples: a calm node, and the seconds of it the first capture starts with.
    await new Promise((r) => setTimeout(r, 6000));
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
      await checkCapture(t, run, attack, r, captures);
      checkForensics(t, attack, (await run.user('GET', `/incidents/${r.incidentId}`)).body);
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
