// One client cannot stall the others: the latency of 50 ordinary nodes (one
// sample a second each, spread evenly) while the server is quiet, while one
// node uploads 49 MB captures back to back, and while one greedy node sends
// full batches (600 samples) back to back without waiting for anything, with
// the per-node fair share on (the default, 60 samples a second) and off; on
// the embedded database and on PostgreSQL (fsync on), in one run.
// Needs root for PostgreSQL (skipped otherwise). Usage: npm run bench:isolation [-- --seconds 10]
import fs from 'node:fs';
import { type RunningServer, silentLogger, startServer } from '../server/index.ts';
import { pcap } from '../test/helpers/captures.ts';
import { agentHeaders, request } from '../test/helpers/http.ts';
import { canRunPostgres, startPostgres } from '../test/helpers/postgres.ts';
import { freshDataDir } from '../test/server/_harness.ts';

const arg = (name: string, dflt: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const SECONDS = arg('seconds', 10);
const NODES = 50;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const pct = (xs: number[], p: number) => xs[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))] ?? NaN;

type Node = { uuid: string; key: string; id: number };
interface Phase {
  name: string;
  latencies: number[];
  errors: number;
  load: string;
}

/** The ordinary nodes for SECONDS: each sends one sample a second; returns every latency. */
async function ordinary(srv: RunningServer, nodes: Node[]): Promise<{ latencies: number[]; errors: number }> {
  const latencies: number[] = [];
  let errors = 0;
  const end = performance.now() + SECONDS * 1000;
  await Promise.all(
    nodes.map(async (n, i) => {
      await sleep((1000 * i) / nodes.length);
      for (let due = performance.now(); due < end; due += 1000) {
        await sleep(due - performance.now());
        const start = performance.now();
        const r = await request(srv.url, 'POST', '/api/v1/agent/metrics', {
          headers: agentHeaders(n),
          json: { pps: 100, bps: 800, recorded_at: new Date().toISOString() },
        });
        if (r.status === 200) latencies.push(performance.now() - start);
        else errors++;
      }
    }),
  );
  return { latencies: latencies.sort((a, b) => a - b), errors };
}

/** Runs `work` over and over while the ordinary nodes run; `work` returns what it did, for the table. */
async function phase(name: string, srv: RunningServer, nodes: Node[], work?: (stop: () => boolean) => Promise<string>): Promise<Phase> {
  let stopped = false;
  const load = work ? work(() => stopped) : Promise.resolve('-');
  const o = await ordinary(srv, nodes);
  stopped = true;
  return { name, ...o, load: await load };
}

async function upload(srv: RunningServer, node: Node, incident: number, stop: () => boolean): Promise<string> {
  const file = pcap(49 * 1024, { size: 1000 });
  const b = 'benchboundary';
  const body = Buffer.concat([
    Buffer.from(
      `--${b}\r\nContent-Disposition: form-data; name="incident_id"\r\n\r\n${incident}\r\n` +
        `--${b}\r\nContent-Disposition: form-data; name="file"; filename="x.pcap"\r\n\r\n`,
    ),
    file,
    Buffer.from(`\r\n--${b}--\r\n`),
  ]);
  let n = 0;
  const t0 = performance.now();
  while (!stop()) {
    const r = await request(srv.url, 'POST', '/api/v1/agent/pcap', {
      headers: { ...agentHeaders(node), 'content-type': `multipart/form-data; boundary=${b}` },
      raw: body,
    });
    if (r.status !== 201) throw new Error(`upload: ${r.status} ${JSON.stringify(r.body)}`);
    n++;
  }
  return `${n} uploads of 49 MB, ${((n * 49) / ((performance.now() - t0) / 1000)).toFixed(1)} MB/s`;
}

async function greedy(srv: RunningServer, node: Node, stop: () => boolean): Promise<string> {
  let stored = 0,
    refused = 0,
    second = 0;
  const base = Date.now() - 6 * 86_400_000;
  while (!stop()) {
    const batch = Array.from({ length: 600 }, () => ({ pps: 1, bps: 8, recorded_at: new Date(base + 1000 * second++).toISOString() }));
    const r = await request(srv.url, 'POST', '/api/v1/agent/metrics', { headers: agentHeaders(node), json: batch });
    if (r.status === 200) stored += 600;
    else refused++;
  }
  return `${(stored / SECONDS).toFixed(0)} samples/s stored, ${refused} batches refused (429)`;
}

async function run(kind: 'embedded' | 'postgres', databaseUrl?: string): Promise<Phase[]> {
  const dataDir = databaseUrl ? undefined : await freshDataDir();
  const start = (share: number) =>
    startServer({
      port: 0,
      host: '127.0.0.1',
      log: silentLogger,
      maintenanceIntervalSeconds: 0,
      dataDir,
      databaseUrl,
      nodeSamplesPerSecond: share,
    });
  let srv = await start(60);
  try {
    const ws = await srv.admin.createWorkspace(`bench-${kind}`);
    const nodes = await Promise.all(Array.from({ length: NODES }, (_, i) => srv.admin.createNode(ws.id, `n${i}`)));
    const heavy = await srv.admin.createNode(ws.id, 'heavy');
    const {
      rows: [inc],
    } = await srv.db.query(`INSERT INTO incidents (node_id, attack_family, severity) VALUES ($1, 'udp_flood', 'high') RETURNING id`, [
      heavy.id,
    ]);
    await phase('warm-up', srv, nodes);
    const out = [await phase('quiet', srv, nodes)];
    out.push(await phase('49 MB uploads', srv, nodes, (stop) => upload(srv, heavy, inc!.id, stop)));
    out.push(await phase('greedy node, fair share on', srv, nodes, (stop) => greedy(srv, heavy, stop)));
    await srv.close();
    srv = await start(0);
    out.push(await phase('greedy node, fair share off', srv, nodes, (stop) => greedy(srv, heavy, stop)));
    return out;
  } finally {
    await srv.close();
    if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

const rows: [string, Phase][] = (await run('embedded')).map((p) => ['embedded', p]);
if (canRunPostgres() === null) {
  const pg = await startPostgres({ durable: true });
  try {
    rows.push(...(await run('postgres', pg.url)).map((p): [string, Phase] => ['PostgreSQL', p]));
  } finally {
    await pg.stop();
  }
} else console.log(`PostgreSQL skipped: ${canRunPostgres()}`);

console.log(`\n${NODES} ordinary nodes, one sample a second each, ${SECONDS} s per phase; latency of their requests`);
console.log('| database | load | requests | p50 | p99 | max | errors | the load did |');
console.log('| --- | --- | --- | --- | --- | --- | --- | --- |');
for (const [db, p] of rows) {
  const l = p.latencies;
  console.log(
    `| ${db} | ${p.name} | ${l.length} | ${pct(l, 50).toFixed(1)} ms | ${pct(l, 99).toFixed(1)} ms | ${(l.at(-1) ?? NaN).toFixed(0)} ms | ${p.errors} | ${p.load} |`,
  );
}
