// An agent's CPU for what the server pushes: one agent of a lab fleet (the
// bundle, production defaults: push on) gets, round after round, four
// workspace rules created through the user API and then withdrawn one by one
// (eight pushes, each applied, acknowledged and reported), while its CPU time
// is read from /proc. Its idle CPU over the same time before is subtracted.
// A second fleet agent beside it keeps the workspace a fleet. With
// BW_AGENT_BUNDLE=path (scripts/lab/agents.ts) another build runs instead of
// dist/agent.mjs: two builds compared by alternating runs.
//
//   npm run bench:agent-push            (root; npm run build:agent first)
//   BENCH_ROUNDS=20 BENCH_RUNS=2 npm run bench:agent-push
import fs from 'node:fs';
import os from 'node:os';
import { whenApplied } from '../scripts/lab/applied.ts';
import { startFleet } from '../scripts/lab/fleet.ts';
import { startLab } from '../scripts/lab/index.ts';
import { sleep } from '../scripts/lab/wait.ts';
import { freshDataDir } from '../test/server/_harness.ts';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 20);
const RUNS = Number(process.env.BENCH_RUNS ?? 2);
const IDLE_MS = 10_000;
const cpuMs = (pid: number) => {
  const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return ((Number(f[11]) + Number(f[12])) * 1000) / 100; // utime + stime, in clock ticks of 10 ms
};

async function once(): Promise<{ idlePct: number; perRoundMs: number; perPushMs: number }> {
  const run = await startLab({
    id: 'apush',
    subnet: 70,
    dataDir: await freshDataDir(),
    traffic: false,
    agent: { from: 'bundle', polling: 'production', logLevel: 'info' },
  });
  const fleet = await startFleet(run, { count: 2, subnet: 70 }).catch(async (e) => {
    await run.close();
    throw e;
  });
  try {
    const agent = fleet.members[0]!.agent;
    const pid = agent.child.pid!;
    await sleep(5000); // started, pushed to, first reports sent
    const i0 = cpuMs(pid);
    await sleep(IDLE_MS);
    const idle = cpuMs(pid) - i0;
    const c0 = cpuMs(pid);
    const t0 = performance.now();
    for (let r = 0; r < ROUNDS; r++) {
      const sources = [1, 2, 3, 4].map((h) => `198.19.${100 + r}.${h}`);
      const made = await Promise.all(sources.map((source) => run.user('POST', '/mitigations', { source, ttl_seconds: 600 })));
      if ((await whenApplied([agent], sources, 'add', 10_000))[0] === undefined) throw new Error(`round ${r + 1}: not applied`);
      await sleep(300);
      for (const m of made) await run.user('POST', `/mitigations/${m.body.id}/withdraw`, {});
      if ((await whenApplied([agent], sources, 'delete', 10_000))[0] === undefined) throw new Error(`round ${r + 1}: not removed`);
      await sleep(300);
    }
    const busy = cpuMs(pid) - c0 - (idle * (performance.now() - t0)) / IDLE_MS;
    return { idlePct: (idle / IDLE_MS) * 100, perRoundMs: busy / ROUNDS, perPushMs: busy / ROUNDS / 8 };
  } finally {
    await fleet.close();
    await run.close();
  }
}

if (process.getuid?.() !== 0) throw new Error('bench:agent-push needs root (namespaces, XDP)');
const bundle = process.env.BW_AGENT_BUNDLE ?? 'dist/agent.mjs';
console.log(
  `\nbench:agent-push: one agent's CPU for pushed rules (${bundle}); ${os.cpus()[0]?.model} x ${os.cpus().length}, Node ${process.version}\n`,
);
console.log(`| run | idle CPU | over idle, per round (4 adds, 4 removals) | per push | rounds |`);
console.log('| --- | --- | --- | --- | --- |');
for (let i = 0; i < RUNS; i++) {
  const m = await once();
  console.log(`| ${i + 1} | ${m.idlePct.toFixed(2)} % | ${m.perRoundMs.toFixed(1)} ms | ${m.perPushMs.toFixed(1)} ms | ${ROUNDS} |`);
}
