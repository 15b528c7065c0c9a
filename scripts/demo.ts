// `npm run demo`: Breakwater against real attacks in the lab (scripts/lab),
// with a live terminal view, then a table of what happened. Root only; it
// leaves the machine as it found it (also on Ctrl-C; a crashed run is
// cleaned up by the next one).
//
//   npm run demo                          all attacks at 20x the threshold
//   BREAKWATER_DEMO_ATTACKS=udp,syn npm run demo
//   BREAKWATER_DEMO_PORT=9090 npm run demo
import { ATTACKS, type LabRun, startLab } from './lab/index.ts';
import { type AttackResult, playAttack, withdrawRule } from './lab/scenario.ts';
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
      console.log('demo: lab removed (namespaces, XDP program, pins, database); the machine is as it was.');
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
`);
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
  console.log(`\n${table(results)}\n`);
  console.log(`Legitimate HTTP requests during the demo: ${legit.ok} answered, ${legit.failed} failed.`);
  console.log('Drop rules were created through the user API (POST /api/v1/mitigations) as soon as the incident showed at the server.');
  return results.every((r) => r.family === r.expectedFamily && r.toDropMs !== undefined) ? 0 : 2;
}

function table(rs: AttackResult[]): string {
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
  ]);
  const head = ['attack', 'expected', 'detected', 'severity', 'pps', 'onset->incident', 'onset->drop', 'dropped', 'share', 'resolved'];
  const w = head.map((h, c) => Math.max(h.length, ...rows.map((row) => row[c]!.length)));
  const line = (cells: string[]) => `| ${cells.map((x, c) => x.padEnd(w[c]!)).join(' | ')} |`;
  return [line(head), `|${w.map((n) => '-'.repeat(n + 2)).join('|')}|`, ...rows.map(line)].join('\n');
}

main().then(
  (code) => process.exit(code),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
