// `npm run demo`: Breakwater against real attacks in the lab (scripts/lab),
// with a live terminal view, then a table of what happened. Root only; it
// leaves the machine as it found it (also on Ctrl-C; a crashed run is
// cleaned up by the next one), but for the incidents' packet captures, which
// it leaves where the user can open them (a new directory each run, in the
// home of whoever ran it, through sudo too, and owned by them).
//
//   npm run demo                          all attacks at 20x the threshold
//   BREAKWATER_DEMO_ATTACKS=udp,syn npm run demo
//   BREAKWATER_DEMO_PORT=9090 npm run demo
//   BREAKWATER_DEMO_CAPTURES=/some/dir npm run demo
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type SavedCapture, saveCaptures } from './lab/captures.ts';
import { ATTACKS, type LabRun, startLab } from './lab/index.ts';
import { createLabPolicies } from './lab/policies.ts';
import { type AttackResult, playAttack, withdrawRule } from './lab/scenario.ts';
import { forensicsTable, markdownTable } from './lab/tables.ts';
import { LiveView } from './lab/view.ts';

const THRESHOLD = 500;
const PPS = 10_000;
const SECONDS = 6;

async function main(): Promise<number> {
  if (process.getuid?.() !== 0) {
    console.error('demo: run as root (it creates network namespaces and attaches XDP)');
    return 1;
  }
  const wanted = (process.env.BREAKWATER_DEMO_ATTACKS ?? ATTACKS.map((a) => a.key).join(',')).split(',');
  const attacks = ATTACKS.filter((a) => wanted.includes(a.key));
  if (!attacks.length) {
    console.error(`demo: BREAKWATER_DEMO_ATTACKS: none of ${ATTACKS.map((a) => a.key).join(', ')}`);
    return 1;
  }
  const abort = new AbortController();
  let run: LabRun | undefined;
  let stopping = false;
  const stop = async (code: number) => {
    if (stopping) return;
    stopping = true;
    abort.abort();
    process.stdout.write('\ndemo: removing the lab...\n');
    await run?.close();
    process.exit(code);
  };
  process.on('SIGINT', () => void stop(130));
  process.on('SIGTERM', () => void stop(143));
  process.on('uncaughtException', (e) => {
    console.error(e);
    void stop(1);
  });

  console.log('demo: starting the lab: victim and attacker namespaces, server, agent, legitimate traffic...');
  const port = Number(process.env.BREAKWATER_DEMO_PORT ?? 8080);
  try {
    run = await startLab({ id: 'demo', subnet: 50, thresholdPps: THRESHOLD, port });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw e;
    console.log(`demo: port ${port} is taken; using a free one`);
    run = await startLab({ id: 'demo', subnet: 50, thresholdPps: THRESHOLD, port: 0 });
  }
  try {
    return await play(run, attacks, abort.signal);
  } finally {
    if (!stopping) {
      await run.close();
      console.log('demo: lab removed (namespaces, XDP program, pins, database); the machine is as it was, but for the captures.');
    }
  }
}

async function play(run: LabRun, attacks: (typeof ATTACKS)[number][], signal: AbortSignal): Promise<number> {
  const url = run.server.url;
  console.log(`
  server     ${url}   (embedded database; stops with the demo)
  user API   curl -H 'Authorization: Bearer ${run.workspace.token}' ${url}/api/v1/incidents
  metrics    curl -H 'Authorization: Bearer ${run.workspace.token}' ${url}/api/metrics
  victim     ${run.net.victimIp} on ${run.net.victimIf} (namespace ${run.net.victimNs}), threshold ${THRESHOLD} pps
  attacker   ${run.net.attackerIp}, spoofing from 198.19.0.0/16; legitimate client ${run.net.clientIp} (HTTP every 50 ms, ping)
  policies   the server drops each incident's top sources by itself, and the /16 ranges 8 of them
             share (spoofed floods; docs/policies.md); the operator's rule through the user API is
             the second path (both reach the agent by push)
`);
  await createLabPolicies(run);
  await new Promise((r) => setTimeout(r, 3000)); // the agent's first samples: a calm node

  const view = new LiveView(run, process.stdout);
  const results: AttackResult[] = [];
  for (const [i, attack] of attacks.entries()) {
    view.begin(`attack ${i + 1}/${attacks.length}: ${attack.title} (${attack.tool}, ${PPS.toLocaleString('en')} pps for ${SECONDS} s)`);
    const r = await playAttack(run, attack, {
      pps: PPS,
      seconds: SECONDS,
      mitigation: 'api',
      waitResolved: true,
      signal,
      onProgress: (p) => view.progress(p),
    });
    view.end(r);
    results.push(r);
    if (signal.aborted) return 130;
    if (r.ruleId !== undefined) await withdrawRule(run, r.ruleId);
  }
  const legit = run.background.stats();
  const target = captureTarget();
  let saved = new Map<AttackResult, SavedCapture>();
  try {
    makeDir(target.dir, target.owner);
    saved = await saveCaptures(run, results, target.dir, target.owner);
  } catch (e) {
    console.log(`demo: the captures could not be saved in ${target.dir}: ${(e as Error).message}`);
  }
  console.log(`\n${table(results, saved)}\n`);
  console.log(
    `What hit the victim, as the server holds each incident (countries from the lab's test database):\n${await forensicsTable(run, results)}\n`,
  );
  const example = [...saved.values()][0]?.file;
  if (example)
    console.log(`Packet captures (pcapng: the first 128 bytes of sampled packets, from before each onset to its resolve), kept in
  ${target.dir}
  open one        tshark -r ${example}      (or: wireshark ${example})
  the drops       tshark -r ${example} -Y 'frame.verdict.ebpf_xdp == 1'
  the onset       tshark -r ${example} -Y 'frame.comment contains "onset"'
`);
  console.log(`Legitimate HTTP requests during the demo: ${legit.ok} answered, ${legit.failed} failed.`);
  console.log(
    "Drop rules: the server's response policies made their own from each incident's top sources, or from the range they share\n" +
      '(a spoofed flood: a forged address dropped alone drops nobody);\n' +
      "the operator's rule was created through the user API (POST /api/v1/mitigations) as soon as the incident showed at the server.",
  );
  return results.every((r) => r.family === r.expectedFamily && r.toDropMs !== undefined) ? 0 : 2;
}

/** BREAKWATER_DEMO_CAPTURES, or ~/breakwater-captures/demo-TIME of the user who ran the demo (SUDO_USER's under sudo). */
function captureTarget(): { dir: string; owner?: { uid: number; gid: number } } {
  const uid = Number(process.env.SUDO_UID),
    gid = Number(process.env.SUDO_GID);
  const owner = process.env.SUDO_USER && uid > 0 && Number.isInteger(gid) ? { uid, gid } : undefined;
  let home = os.homedir();
  if (owner) {
    try {
      home = execFileSync('getent', ['passwd', process.env.SUDO_USER!], { encoding: 'utf8' }).split(':')[5] || home;
    } catch {
      /* keep root's */
    }
  }
  const stamp = new Date().toISOString().slice(0, 19).replace(/:/g, '-');
  return { dir: process.env.BREAKWATER_DEMO_CAPTURES ?? path.join(home, 'breakwater-captures', `demo-${stamp}`), owner };
}

/** Creates `dir` and the parents it lacks, each owned by `owner`. */
function makeDir(dir: string, owner?: { uid: number; gid: number }): void {
  const first = fs.mkdirSync(dir, { recursive: true });
  if (!first || !owner) return;
  for (let d = dir; d.length >= first.length; d = path.dirname(d)) fs.chownSync(d, owner.uid, owner.gid);
}

function table(rs: AttackResult[], saved: Map<AttackResult, SavedCapture>): string {
  const ms = (v?: number) => (v === undefined ? '-' : `${v} ms`);
  const rows = rs.map((r) => [
    r.attack,
    r.expectedFamily,
    `${r.family ?? '-'}${r.family && r.family === r.expectedFamily ? '' : ' (!)'}`,
    r.severity ?? '-',
    r.measuredPps.toLocaleString('en'),
    ms(r.toIncidentMs),
    ms(r.toDropMs),
    r.droppedPackets.toLocaleString('en'),
    `${r.receivedPackets ? Math.round((100 * r.droppedPackets) / r.receivedPackets) : 0}%`,
    ms(r.toResolvedMs),
    ((c) => (c ? `${c.packets.toLocaleString('en')} packets, ${path.basename(c.file)}` : '-'))(saved.get(r)),
  ]);
  const head = [
    'attack',
    'expected',
    'detected',
    'severity',
    'pps',
    'onset->incident',
    'onset->drop',
    'dropped',
    'share',
    'resolved',
    'capture',
  ];
  return markdownTable(head, rows);
}

main().then(
  (code) => process.exit(code),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
