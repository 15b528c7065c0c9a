// The fleet bar (issue 12): a rule a response policy decides from one node's
// incident is in force on the other agents of the workspace. The lab run's
// victim and FLEET more agents (scripts/lab/fleet.ts): the agent bundle, one
// process each, the production defaults (push on, config poll 60 s), each
// attached with XDP to its own veth end and registered as its own node. A
// `scope: "workspace"` drop_top_sources policy. Each round a UDP flood from
// four fixed sources (10x the victim's threshold, BENCH_RATE) opens an
// incident on the victim; the policy drops the four on every node. For each
// of the other agents: from the moment the server answered the incident
// report whose judging made the rules (the server's own request log, in this
// process) to the last of the four written into that agent's kernel map (its
// 'command applied' log line, written as the map update returns: reading 51
// maps every few ms would take the CPU the agents and the server share),
// then each map read once to check the four are there, dropping. Then the
// four withdrawn at once, to the four gone. Bar: p95 <= 200 ms.
//
//   npm run bench:fleet            (root; npm run build:agent first)
//   BENCH_FLEET=50 BENCH_ROUNDS=6 BENCH_RATE=10 BENCH_WARMUP=1 npm run bench:fleet
//
// The first round is a warm-up, shown on its own row and not judged: the
// server's judging and push paths and every agent's command path then run
// for the first time, compiled as they go, and in the lab all 51 agents
// compile the same code at the same moment on the two cores they share
// (its rules took 194-316 ms against 94-217 ms for the later rounds', in
// six runs). On a fleet each agent does that once, on its own host.
import fs from 'node:fs';
import os from 'node:os';
import { whenApplied } from '../scripts/lab/applied.ts';
import { countInView } from '../scripts/lab/delivery.ts';
import { type Fleet, fleetFlood, startFleet } from '../scripts/lab/fleet.ts';
import { type LabRun, startLab } from '../scripts/lab/index.ts';
import { sleep, until } from '../scripts/lab/wait.ts';
import type { Logger } from '../server/index.ts';
import { freshDataDir } from '../test/server/_harness.ts';

const FLEET = Number(process.env.BENCH_FLEET ?? 50);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 6);
const WARMUP = Number(process.env.BENCH_WARMUP ?? 1);
const THRESHOLD = 500;
const PPS = THRESHOLD * Number(process.env.BENCH_RATE ?? 10);
const FLOOD_S = 3;
/** Calm before the first round (BENCH_SETTLE_S): the victim's calm samples, and the fleet's start-up behind it. */
const SETTLE_S = Number(process.env.BENCH_SETTLE_S ?? 3);
const BAR_MS = 200;
const OVERALL_MS = 10 * 60_000;

/** The server's log: when each incident report was answered (performance.now(), by node uuid); warnings and errors to stderr. */
const reports = new Map<string, number[]>();
const nextReport: (() => void)[] = []; // resolved at the next incident report answered (only the victim's are)
let tearingDown = false; // the agents' streams then close under the server: not worth a line
const say = (msg: string, f?: Record<string, unknown>) => tearingDown || console.error(`[server] ${msg} ${JSON.stringify(f ?? {})}`);
/** When the judging's last statement (the policy's firing) was done: the rules commit right after. */
const judged: number[] = [];
/** When the push hub had written a batch of configs to their streams, and how many. */
const pushed: { at: number; nodes: number; ms: number }[] = [];
const serverLog: Logger = {
  debug: (msg, f) => {
    if (msg === 'push: configs sent') pushed.push({ at: performance.now(), nodes: Number(f?.nodes), ms: Number(f?.ms) });
    if (msg === 'query' && typeof f?.sql === 'string' && f.sql.startsWith('INSERT INTO policy_firings')) judged.push(performance.now());
    if (msg === 'request' && f?.url === '/api/v1/agent/incident' && (f.status === 200 || f.status === 201) && typeof f.node === 'string') {
      reports.set(f.node, [...(reports.get(f.node) ?? []), performance.now()]);
      for (const resolve of nextReport.splice(0)) resolve();
    }
  },
  info: () => {},
  warn: say,
  error: say,
};

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)] ?? Number.NaN;
};
const rssOf = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) * 1024;
const mb = (b: number) => `${(b / 2 ** 20).toFixed(0)} MB`;

interface Samples {
  fromReport: number[];
  fromCreated: number[];
  judging: number[];
  /** Report answered -> the push hub wrote the configs to the fleet's streams; then -> each agent's kernel. */
  sent: number[];
  /** The push hub's build of the fleet's configs (three statements) and their writing. */
  building: number[];
  afterSent: number[];
  withdraw: number[];
  hitNode: number[];
  missed: number;
}

const noSamples = (): Samples => ({
  fromReport: [],
  fromCreated: [],
  judging: [],
  sent: [],
  building: [],
  afterSent: [],
  withdraw: [],
  hitNode: [],
  missed: 0,
});

async function round(run: LabRun, fleet: Fleet, r: number, s: Samples): Promise<void> {
  const name = r < WARMUP ? 'the warm-up round' : `round ${r - WARMUP + 1}`;
  const sources = [1, 2, 3, 4].map((h) => `198.19.${200 + r}.${h}`);
  const reported = new Promise<void>((resolve) => nextReport.push(resolve));
  const agents = [run.agent, ...fleet.members.map((m) => m.agent)];
  const kernels = [run.kernel, ...fleet.members.map((m) => m.kernel)];
  const flood = fleetFlood(run.net, sources, PPS, FLOOD_S);
  let arrived: (number | undefined)[];
  try {
    if (!(await Promise.race([reported.then(() => true), sleep(20_000).then(() => false)])))
      throw new Error(
        `${name}: no incident report within 20 s of the flood's start; the victim's log:\n${run.agent.log.slice(-15).join('\n')}`,
      );
    arrived = await whenApplied(agents, sources, 'add', 15_000);
  } finally {
    flood.stop();
    await flood.done.catch(() => {});
  }
  const listed = (await run.user('GET', '/mitigations?limit=500')).body.rules as {
    id: number;
    source: string;
    origin: string;
    incident_id: number | null;
    created_at: string;
  }[];
  const rules = listed.filter((x) => x.origin === 'policy' && sources.includes(x.source.replace(/\/32$/, '')));
  if (rules.length !== sources.length)
    throw new Error(`${name}: ${rules.length} policy rules for the 4 sources: ${JSON.stringify(listed.slice(0, 8))}`);
  // The decision that made the last of them: its created_at (the judging transaction's start), and the
  // victim's incident report answered last before it (the judging starts as the reply goes out).
  const createdAt = Math.max(...rules.map((x) => Date.parse(x.created_at))) - performance.timeOrigin;
  const answered = (reports.get(run.node.uuid) ?? []).filter((t) => t <= createdAt + 50).at(-1);
  if (answered === undefined) throw new Error(`${name}: no incident report answered before the rules`);
  // Each map read once: the four are there, dropping.
  const firing = judged.find((t) => t >= answered);
  if (firing !== undefined) s.judging.push(firing - answered);
  // The hub's batches after the judging, until they held the fleet (BATCH nodes each, server/push.ts).
  let sent: number | undefined;
  let nodes = 0;
  let building = 0;
  for (const p of firing === undefined ? [] : pushed.filter((p) => p.at >= firing)) {
    nodes += p.nodes;
    building += p.ms;
    if (nodes >= FLEET) {
      sent = p.at;
      break;
    }
  }
  if (sent !== undefined) {
    s.sent.push(sent - answered);
    s.building.push(building);
  }
  arrived.forEach((t, i) => {
    if (t === undefined || countInView(kernels[i]!, sources, 'drop') !== sources.length) s.missed++;
    else if (i === 0) s.hitNode.push(t - answered);
    else {
      s.fromReport.push(t - answered);
      s.fromCreated.push(t - createdAt);
      if (sent !== undefined) s.afterSent.push(t - sent);
    }
  });
  // Withdrawn through the user API, the four at once: from their sending to the four gone from every map
  // (the answers come back late when the agents' acks keep the server busy: not a start to time from).
  const withdrawn = performance.now();
  for (const w of await Promise.all(rules.map((x) => run.user('POST', `/mitigations/${x.id}/withdraw`, {}))))
    if (w.status !== 200) throw new Error(`withdrawal refused: ${JSON.stringify(w.body)}`);
  const gone = (await whenApplied(agents, sources, 'delete', 15_000)).slice(1);
  gone.forEach((t, i) => {
    if (t === undefined || countInView(kernels[i + 1]!, sources) !== 0) s.missed++;
  });
  s.withdraw.push(...gone.filter((t) => t !== undefined).map((t) => t - withdrawn));
  // The incident resolves (the victim's hold: 2 s of calm) before the next round's flood.
  const incident = rules[0]!.incident_id;
  await until(async () => (await run.user('GET', `/incidents/${incident}`)).body?.status === 'resolved', 30_000, 250);
  const late = arrived.filter((t) => t !== undefined).map((t) => t - answered);
  process.stderr.write(
    `${name}: incident #${incident}, ${late.length}/${arrived.length} agents, report -> kernel ${Math.min(...late).toFixed(0)}..${Math.max(...late).toFixed(0)} ms (the configs written to the streams at ${sent === undefined ? '?' : (sent - answered).toFixed(0)} ms)\n`,
  );
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('bench:fleet needs root (namespaces, XDP)');
  let run: LabRun | undefined;
  let fleet: Fleet | undefined;
  const cleanup = async () => {
    tearingDown = true;
    await fleet?.close().catch((e) => console.error(e));
    await run?.close().catch((e) => console.error(e));
  };
  const abandon = (why: string) => {
    console.error(why);
    void cleanup().finally(() => process.exit(130));
  };
  process.once('SIGINT', () => abandon('interrupted: tearing the fleet down'));
  process.once('SIGTERM', () => abandon('terminated: tearing the fleet down'));
  setTimeout(() => abandon(`bench:fleet: not done in ${OVERALL_MS / 60_000} min`), OVERALL_MS).unref();
  const cold = noSamples();
  const s = noSamples();
  let setupMs = 0;
  let rss = { server: 0, agents: 0, agentMax: 0 };
  try {
    const t0 = performance.now();
    run = await startLab({
      id: 'fleet',
      subnet: 71,
      thresholdPps: THRESHOLD,
      dataDir: await freshDataDir(),
      traffic: false,
      serverLog,
      // The victim: the production defaults too, but for a 2 s resolve hold (rounds follow each other sooner).
      agent: { from: 'bundle', polling: 'production', logLevel: 'info', args: ['--resolve-hold-ms', '2000'] },
    });
    await run.agent.waitLog(/"msg":"push channel open"/, 30_000);
    fleet = await startFleet(run, { count: FLEET, subnet: 71 });
    setupMs = performance.now() - t0;
    process.stderr.write(`${FLEET + 1} agents up and pushed to in ${(setupMs / 1000).toFixed(1)} s\n`);
    const policy = await run.user('POST', '/policies', {
      name: 'fleet',
      action: { type: 'drop_top_sources', min_share_pct: 1 },
      scope: 'workspace',
      cooldown_seconds: 0,
      ttl_seconds: 600,
      withdraw_grace_seconds: 600, // the bench withdraws them itself
    });
    if (policy.status !== 201) throw new Error(`policy refused: ${JSON.stringify(policy.body)}`);
    await sleep(SETTLE_S * 1000);
    for (let r = 0; r < WARMUP + ROUNDS; r++) await round(run, fleet, r, r < WARMUP ? cold : s);
    const agentPids = [run.agent.child.pid!, ...fleet.members.map((m) => m.agent.child.pid!)];
    const each = agentPids.map(rssOf);
    rss = { server: process.memoryUsage().rss, agents: each.reduce((a, b) => a + b, 0), agentMax: Math.max(...each) };
  } finally {
    await cleanup();
  }
  const f = (v: number) => `${v.toFixed(1)} ms`;
  const row = (what: string, xs: number[], bar: boolean, rounds = ROUNDS) =>
    `| ${what} | ${rounds} | ${FLEET} | ${xs.length} | ${f(pct(xs, 50))} | ${f(pct(xs, 95))} | ${f(pct(xs, 99))} | ${f(Math.max(...xs))} | ${bar ? `${BAR_MS} ms` : '-'} | ${bar ? (pct(xs, 95) <= BAR_MS && s.missed + cold.missed === 0 && xs.length >= ROUNDS * FLEET ? 'met' : 'NOT MET') : '-'} |`;
  console.log(
    `\nbench:fleet: a workspace-scope policy's rules from one node's incident on ${FLEET} other agents (bundle, one process each, production defaults: push on)`,
  );
  console.log(
    `${os.cpus()[0]?.model} x ${os.cpus().length}, Linux ${os.release()}, Node ${process.version}; load average ${os
      .loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')}\n`,
  );
  console.log('| measured | rounds | agents | samples | p50 | p95 | p99 | max | bar p95 | |');
  console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |');
  console.log(row("incident report answered -> all 4 rules in the agent's kernel", s.fromReport, true));
  console.log(row('rules created (created_at) -> in the kernel', s.fromCreated, false));
  console.log(row('withdrawals sent (4 at once) -> gone from the kernel', s.withdraw, false));
  if (WARMUP) console.log(row('the warm-up round, report answered -> in the kernel (not judged)', cold.fromReport, false, WARMUP));
  console.log(`\n- the node hit (its own copy): report answered -> kernel p50 ${f(pct(s.hitNode, 50))}, max ${f(Math.max(...s.hitNode))}`);
  console.log(
    `- at the server, report answered -> the policy judged (its last statement; the commit and the push follow): p50 ${f(pct(s.judging, 50))}, max ${f(Math.max(...s.judging))}`,
  );
  console.log(
    `- report answered -> the configs written to the fleet's streams: p50 ${f(pct(s.sent, 50))}, max ${f(Math.max(...s.sent))} (of which the hub's build and writing p50 ${f(pct(s.building, 50))}, max ${f(Math.max(...s.building))}); then -> the agent's kernel: p50 ${f(pct(s.afterSent, 50))}, p95 ${f(pct(s.afterSent, 95))}`,
  );
  console.log(`- missed (not in the kernel or not gone within 15 s): ${s.missed + cold.missed}`);
  console.log(`- ${FLEET + 1} agents started (6 at a time) and pushed to in ${(setupMs / 1000).toFixed(1)} s`);
  console.log(
    `- RSS: server ${mb(rss.server)} (the lab server runs in the bench process, with the harness and ${FLEET + 1} map views); agents ${mb(rss.agents)} in all (${FLEET + 1} processes, largest ${mb(rss.agentMax)})`,
  );
  if (!(pct(s.fromReport, 95) <= BAR_MS && s.missed + cold.missed === 0)) process.exitCode = 1;
}

main().then(
  () => process.exit(process.exitCode ?? 0),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
