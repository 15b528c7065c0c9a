// Control-plane benchmark: simulated agents, each posting one sample per
// second (spread evenly over the second) to ONE server process (a child
// `breakwater server`) on a real PostgreSQL (durable settings: fsync on).
// For JSON and for MessagePack it finds the largest node count whose p99
// latency stays under 100 ms with not one sample lost (rows counted in
// metrics_raw), then times GET /api/metrics with 10,000 nodes.
//
//   npm run bench:server             (root: PostgreSQL runs as the postgres user)
//   BENCH_SECONDS=20 BENCH_STEPS=1000,2000,5000 npm run bench:server
import { spawn, type ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import http from 'node:http';
import os from 'node:os';
import pg from 'pg';
import { pack } from '../server/codec.ts';
import { hashSecret, newSecret } from '../server/secrets.ts';
import { startPostgres } from '../test/helpers/postgres.ts';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 15);
const STEPS = (process.env.BENCH_STEPS ?? '1000,2000,3000,4000,5000,6000,8000,10000').split(',').map(Number);
const SCRAPE_NODES = 10_000;
const WARMUP = 2;
const cli = new URL('../scripts/breakwater.mjs', import.meta.url).pathname;

interface Node { id: number; uuid: string; key: string }

async function startServer(url: string): Promise<{ base: string; child: ChildProcess }> {
  const child = spawn('node', [...(process.env.BENCH_NODE_ARGS?.split(' ').filter(Boolean) ?? []), cli, 'server', '--port', '0', '--host', '127.0.0.1', '--database-url', url, '--pool-size', '10', '--maintenance-interval-seconds', '0'], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, LOG_LEVEL: 'info' } });
  let log = '';
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`server did not start: ${log}`)); }, 60_000);
    child.stderr!.on('data', (c) => {
      log += c;
      const m = /"msg":"server listening","port":(\d+)/.exec(log);
      if (m) { clearTimeout(timer); resolve(Number(m[1])); }
    });
  });
  child.stderr!.on('data', (c) => { if (String(c).includes('"error"')) process.stderr.write(c); });
  return { base: `http://127.0.0.1:${port}`, child };
}

async function createNodes(db: pg.Pool, workspaceId: number, n: number, prefix: string): Promise<Node[]> {
  const nodes = Array.from({ length: n }, () => ({ uuid: crypto.randomUUID(), key: newSecret() }));
  const { rows } = await db.query<{ id: number; uuid: string }>(
    `INSERT INTO nodes (uuid, workspace_id, name, ip, key_hash)
     SELECT u, $1, $2 || '-' || ord, '10.' || (ord / 65536) || '.' || (ord / 256 % 256) || '.' || (ord % 256), h
     FROM unnest($3::uuid[], $4::bytea[]) WITH ORDINALITY AS t(u, h, ord) RETURNING id, uuid`,
    [workspaceId, prefix, nodes.map((x) => x.uuid), nodes.map((x) => hashSecret(x.key))],
  );
  const byUuid = new Map(rows.map((r) => [r.uuid, Number(r.id)]));
  return nodes.map((x) => ({ ...x, id: byUuid.get(x.uuid)! }));
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 512 });

function post(base: string, node: Node, body: Buffer, type: string): Promise<number> {
  return new Promise((resolve) => {
    const req = http.request(base + '/api/v1/agent/metrics', {
      method: 'POST', agent,
      headers: { authorization: `Bearer ${node.key}`, 'x-node-uuid': node.uuid, 'content-type': type, 'content-length': body.length, accept: type },
    }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', () => resolve(0));
    req.end(body);
  });
}

async function load(base: string, nodes: Node[], format: 'json' | 'msgpack') {
  const type = format === 'json' ? 'application/json' : 'application/msgpack';
  const lat: number[] = [];
  let failed = 0;
  let sent = 0;
  const inflight: Promise<void>[] = [];
  const start = performance.now() + 200;
  const total = nodes.length * (SECONDS + WARMUP);
  // Request k goes out at start + k / N seconds: node k % N, second floor(k / N).
  for (let k = 0; k < total; k++) {
    const due = start + (k * 1000) / nodes.length;
    const wait = due - performance.now();
    if (wait > 2) await new Promise((r) => setTimeout(r, wait));
    const node = nodes[k % nodes.length]!;
    const second = Math.floor(k / nodes.length);
    const sample = { pps: 1000 + (k % 977), bps: 8_000_000, tcp_pct: 70.5, udp_pct: 25, icmp_pct: 4.5, conn_count: 120, recorded_at: new Date(Date.UTC(2030, 0, 1) + second * 1000).toISOString() };
    const body = format === 'json' ? Buffer.from(JSON.stringify(sample)) : pack(sample);
    const t0 = performance.now();
    sent++;
    inflight.push(post(base, node, body, type).then((status) => {
      // The first WARMUP seconds (connections opening, JIT) are stored and counted but not timed.
      if (second >= WARMUP) lat.push(performance.now() - t0);
      if (status !== 200) failed++;
    }));
    if (inflight.length > 20000) await Promise.all(inflight.splice(0));
  }
  await Promise.all(inflight);
  const elapsed = (performance.now() - start) / 1000;
  lat.sort((a, b) => a - b);
  const pct = (p: number) => lat[Math.min(lat.length - 1, Math.floor(p * lat.length))]!;
  return { sent, failed, p50: pct(0.5), p99: pct(0.99), max: lat[lat.length - 1]!, rate: sent / elapsed };
}

async function main() {
  const pgServer = await startPostgres({ durable: true, settings: { shared_buffers: '512MB', max_wal_size: '4GB' } });
  const rows: string[][] = [];
  const best: Record<string, number> = {};
  try {
    const { base, child } = await startServer(pgServer.url); // migrates the database
    const db = new pg.Pool({ connectionString: pgServer.url, max: 4 });
    try {
      const { rows: w } = await db.query<{ id: number }>(`INSERT INTO workspaces (uuid, name) VALUES ($1, 'bench') RETURNING id`, [crypto.randomUUID()]);
      const ws = Number(w[0]!.id);
      // Warm the server and the database up once (JIT, plans, first pages) before anything is timed.
      await load(base, await createNodes(db, ws, 1000, 'warmup'), 'json');
      for (const format of ['json', 'msgpack'] as const) {
        for (const n of STEPS) {
          await db.query('DELETE FROM nodes'); // cascades to samples
          await db.query('VACUUM ANALYZE');
          const nodes = await createNodes(db, ws, n, format);
          const r = await load(base, nodes, format);
          const { rows: c } = await db.query<{ n: string }>('SELECT count(*) AS n FROM metrics_raw');
          const stored = Number(c[0]!.n);
          const ok = r.p99 < 100 && r.failed === 0 && stored === r.sent;
          rows.push([format, String(n), r.rate.toFixed(0), String(r.sent), String(stored), String(r.failed), r.p50.toFixed(1), r.p99.toFixed(1), r.max.toFixed(0), ok ? 'yes' : 'no']);
          console.error(rows[rows.length - 1]!.join('\t'));
          if (!ok) break;
          best[format] = n;
        }
      }
      // Scrape with 10,000 nodes, each with a last sample and a baseline.
      await db.query('DELETE FROM nodes');
      const nodes = await createNodes(db, ws, SCRAPE_NODES, 'scrape');
      const ids = nodes.map((x) => x.id);
      await db.query(`INSERT INTO node_last_sample (node_id, recorded_at, pps, bps, tcp_pct, udp_pct, icmp_pct, conn_count)
        SELECT id, now(), 1000 + id % 100, 8000000, 70, 25, 5, 100 FROM unnest($1::bigint[]) AS id`, [ids]);
      await db.query(`INSERT INTO baselines (node_id, mean_pps, p95_pps, p99_pps, samples)
        SELECT id, 900, 1100, 1200, 3600 FROM unnest($1::bigint[]) AS id`, [ids]);
      const { rows: tk } = await db.query<{ id: number }>(`INSERT INTO tokens (public_id, workspace_id, secret_hash) VALUES ('benchbench12', $1, $2) RETURNING id`, [ws, hashSecret('s'.repeat(43))]);
      void tk;
      const token = `bwt_benchbench12_${'s'.repeat(43)}`;
      const times: number[] = [];
      let bytes = 0;
      for (let i = 0; i < 6; i++) {
        const t0 = performance.now();
        const res = await fetch(`${base}/api/metrics`, { headers: { authorization: `Bearer ${token}` } });
        const text = await res.text();
        if (res.status !== 200) throw new Error(`scrape ${res.status}: ${text.slice(0, 200)}`);
        times.push(performance.now() - t0);
        bytes = text.length;
      }
      const warm = times.slice(1).sort((a, b) => a - b);
      child.kill('SIGTERM');
      await Promise.race([new Promise((r) => child.once('exit', r)), new Promise((r) => setTimeout(r, 10_000))]);
      await db.end();
      printTable(rows, best, { first: times[0]!, median: warm[Math.floor(warm.length / 2)]!, max: warm[warm.length - 1]!, bytes });
    } finally {
      child.kill('SIGKILL');
    }
  } finally {
    await pgServer.stop();
  }
}

function printTable(rows: string[][], best: Record<string, number>, scrape: { first: number; median: number; max: number; bytes: number }) {
  const head = ['format', 'nodes', 'req/s', 'sent', 'stored', 'errors', 'p50 ms', 'p99 ms', 'max ms', 'pass'];
  const all = [head, ...rows];
  const w = head.map((_, i) => Math.max(...all.map((r) => r[i]!.length)));
  const line = (r: string[]) => '| ' + r.map((c, i) => c.padEnd(w[i]!)).join(' | ') + ' |';
  console.log(`\nIngest: ${SECONDS} s timed per step after ${WARMUP} s of warm-up, one sample per node per second, ${os.cpus().length} CPUs`);
  console.log(line(head));
  console.log('| ' + w.map((n) => '-'.repeat(n)).join(' | ') + ' |');
  for (const r of rows) console.log(line(r));
  console.log(`\nLargest node count with p99 < 100 ms and no sample lost: JSON ${best.json ?? 0}, MessagePack ${best.msgpack ?? 0}`);
  console.log(`GET /api/metrics with ${SCRAPE_NODES} nodes (${(scrape.bytes / 1e6).toFixed(1)} MB): first ${scrape.first.toFixed(0)} ms, median ${scrape.median.toFixed(0)} ms, max ${scrape.max.toFixed(0)} ms (5 warm scrapes)`);
}

await main();
