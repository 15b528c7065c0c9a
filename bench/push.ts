// Rule delivery with the production default settings (the agent bundle,
// push on, config poll every 60 s calm and 10 s during an attack): from
// POST /api/v1/mitigations returning to the rule in the victim's kernel map
// (scripts/lab/delivery.ts), for RULES rules one after the other, while the
// lab is calm (legitimate background only) and during a spoofed UDP flood at
// 20x the node's threshold; the withdrawals too (from the withdraw's answer
// to the rule gone from the map). Bar (issue 12): p95 <= 100 ms.
//
//   npm run bench:push          (root)
//   BENCH_RULES=100 npm run bench:push
import os from 'node:os';
import { deliverRule, withdrawTimed } from '../scripts/lab/delivery.ts';
import { attackByKey, startLab } from '../scripts/lab/index.ts';
import { sleep } from '../scripts/lab/wait.ts';
import { freshDataDir } from '../test/server/_harness.ts';

const RULES = Number(process.env.BENCH_RULES ?? 40);
const THRESHOLD = 500;

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)] ?? Number.NaN;
};

interface Row {
  phase: string;
  add: number[];
  withdraw: number[];
  missed: number;
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('bench:push needs root (namespaces, XDP)');
  const run = await startLab({
    id: `bp${process.pid % 1000}`,
    subnet: 70,
    thresholdPps: THRESHOLD,
    dataDir: await freshDataDir(),
    agent: { from: 'bundle', polling: 'production' },
  });
  const rows: Row[] = [];
  try {
    await run.agent.waitLog(/"msg":"push channel open"/, 15_000);
    await sleep(3000); // calm samples first
    const phase = async (name: string, base: number) => {
      const row: Row = { phase: name, add: [], withdraw: [], missed: 0 };
      rows.push(row);
      for (let i = 0; i < RULES; i++) {
        const source = `198.19.${base + Math.floor(i / 250)}.${(i % 250) + 1}`;
        const d = await deliverRule(run, source, { waitMs: 5000 });
        if (d.ms === undefined) row.missed++;
        else row.add.push(d.ms);
        const w = await withdrawTimed(run, d.ruleId, source, 5000);
        if (w === undefined) row.missed++;
        else row.withdraw.push(w);
        await sleep(50 + Math.random() * 100); // not in step with anything
      }
    };
    await phase('calm', 150);
    const flood = attackByKey('udp').start(run.net, THRESHOLD * 20, 600);
    try {
      await run.agent.waitLog(/"msg":"attack detected"/, 10_000);
      await phase(`during a UDP flood at ${THRESHOLD * 20} pps (20x)`, 160);
    } finally {
      flood.stop();
      await flood.done.catch(() => {});
    }
  } finally {
    await run.close();
  }
  const f = (v: number) => `${v.toFixed(1)} ms`;
  console.log(`\nbench:push: ${RULES} rules a phase, production settings (push on, poll 60 s / 10 s), agent bundle`);
  console.log(`${os.cpus()[0]?.model} x ${os.cpus().length}, Linux ${os.release()}, Node ${process.version}\n`);
  console.log(
    '| phase | POST answered -> rule in the kernel: p50 | p95 | max | withdraw answered -> gone: p50 | p95 | missed | bar p95 <= 100 ms |',
  );
  console.log('| --- | --- | --- | --- | --- | --- | --- | --- |');
  for (const r of rows)
    console.log(
      `| ${r.phase} | ${f(pct(r.add, 50))} | ${f(pct(r.add, 95))} | ${f(Math.max(...r.add))} | ${f(pct(r.withdraw, 50))} | ${f(pct(r.withdraw, 95))} | ${r.missed} | ${pct(r.add, 95) <= 100 && r.missed === 0 ? 'met' : 'MISSED'} |`,
    );
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
