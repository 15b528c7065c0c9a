// Control-plane benchmark: simulated agents, each posting one sample per
// second (spread evenly over the second) to ONE server process (a child
// `breakwater server`) on a real PostgreSQL (durable settings: fsync on).
// For JSON and for MessagePack it finds the largest node count whose p99
// latency stays under 100 ms with not one sample lost (rows counted in
// metrics_raw), then times GET /api/metrics with 10,000 nodes. Each step also
// reports the CPU used by the server, PostgreSQL and the load generator (in %
// of one core): all three share this machine.
//
//   npm run bench:server             (root: PostgreSQL runs as the postgres user)
//   BENCH_SECONDS=20 BENCH_STEPS=1000,2000,5000 BENCH_FORMATS=msgpack npm run bench:server
//   BENCH_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" npm run bench:server   (server flags)
//   BENCH_CONTINUE=1: go on after a failing step; repeat a step with BENCH_STEPS=4000,4000,4000
//   BENCH_SERVER_OUT=/tmp/srv.log: the server's stdout and stderr to a file (e.g. with BENCH_NODE_ARGS=--trace-gc)
import { type ChildProcess, spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import pg from 'pg';
import { pack } from '../server/codec.ts';
import { hashSecret, newSecret } from '../server/secrets.ts';
import { startPostgres } from '../test/helpers/postgres.ts';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 15);
const STEPS = (process.env.BENCH_STEPS ?? '1000,2000,3000,4000,5000,6000,8000,10000').split(',').map(Number);
const FORMATS = (process.env.BENCH_FORMATS ?? 'json,msgpack').split(',') as ('json' | 'msgpack')[];
const SCRAPE_NODES = 10_000;
const WARMUP = 2;
const cli = new URL('../scripts/breakwater.mjs', import.meta.url).pathname;

interface Node {
  id: number;
  uuid: string;
  key: string;
}

async function startServer(url: string): Promise<{ base: string; port: number; child: ChildProcess }> {
  const child = spawn(
    'node',
    [
      ...(process.env.BENCH_NODE_ARGS?.split(' ').filter(Boolean) ?? []),
      cli,
      'server',
      '--port',
      '0',
      '--host',
      '127.0.0.1',
      '--database-url',
      url,
      '--pool-size',
      '10',
      '--maintenance-interval-seconds',
      '0',
    ],
    { stdio: ['ignore', process.env.BENCH_SERVER_OUT ? 'pipe' : 'ignore', 'pipe'], env: { ...process.env, LOG_LEVEL: 'info' } },
  );
  if (process.env.BENCH_SERVER_OUT) {
    const out = fs.createWriteStream(process.env.BENCH_SERVER_OUT, { flags: 'a' });
    child.stdout!.pipe(out);
    child.stderr!.pipe(out);
  }
  let log = '';
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`server did not start: ${log}`));
    }, 60_000);
    child.stderr!.on('data', (c) => {
      log += c;
      const m = /"msg":"server listening","port":(\d+)/.exec(log);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
  });
  child.stderr!.on('data', (c) => {
    if (String(c).includes('"error"')) process.stderr.write(c);
  });
  return { base: `http://127.0.0.1:${port}`, port, child };
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

// The load generator is built to cost the machine as little as possible, since
// it shares the two cores with the server and PostgreSQL: every simulated node
// keeps its own keep-alive TCP connection (as an agent does), every request is
// serialised to bytes before the step starts, a 1 ms pacing loop writes the ones
// that are due, and replies are counted by reading the status line and
// Content-Length. Latency runs from each request's *scheduled* time, not from
// when it was written, so a stalled server or generator is charged for the
// wait (no coordinated omission).
interface Conn {
  socket: net.Socket;
  waiting: number[];
  rest: Buffer | null;
}

function connectAll(port: number, n: number): Promise<Conn[]> {
  const conns: Conn[] = [];
  const one = () =>
    new Promise<Conn>((resolve, reject) => {
      const socket = net.connect({ port, host: '127.0.0.1', noDelay: true }, () => resolve({ socket, waiting: [], rest: null }));
      socket.once('error', reject);
    });
  return (async () => {
    // A few hundred at a time: the listen backlog is finite.
    for (let i = 0; i < n; i += 250) conns.push(...(await Promise.all(Array.from({ length: Math.min(250, n - i) }, one))));
    return conns;
  })();
}

/** Every request of a step as bytes: index k = second * nodes + node, due at start + k / nodes seconds. */
function serialise(nodes: Node[], format: 'json' | 'msgpack', seconds: number): Buffer[] {
  const type = format === 'json' ? 'application/json' : 'application/msgpack';
  const heads = nodes.map(
    (n) =>
      `POST /api/v1/agent/metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${n.key}\r\n` +
      `X-Node-UUID: ${n.uuid}\r\nContent-Type: ${type}\r\nAccept: ${type}\r\nContent-Length: `,
  );
  const out: Buffer[] = [];
  // Times within the server's window (contract/limits.ts): from an hour ago on, a second apart.
  const base = Date.now() - 3600_000;
  for (let second = 0; second < seconds; second++) {
    const recorded_at = new Date(base + second * 1000).toISOString();
    for (let i = 0; i < nodes.length; i++) {
      const sample = {
        pps: 1000 + ((second * nodes.length + i) % 977),
        bps: 8_000_000,
        tcp_pct: 70.5,
        udp_pct: 25,
        icmp_pct: 4.5,
        conn_count: 120,
        recorded_at,
      };
      const body = format === 'json' ? Buffer.from(JSON.stringify(sample)) : pack(sample);
      out.push(Buffer.concat([Buffer.from(`${heads[i]}${body.length}\r\n\r\n`, 'latin1'), body]));
    }
  }
  return out;
}

const CRLF2 = Buffer.from('\r\n\r\n');
const CL = Buffer.from('\r\nContent-Length: ');

/** Content-Length of the response head in buf[start, end), without allocating in the common case. */
function contentLength(buf: Buffer, start: number, end: number): number {
  const at = buf.indexOf(CL, start);
  if (at < 0 || at > end) return Number(/\r\ncontent-length: *(\d+)/i.exec(buf.toString('latin1', start, end))?.[1] ?? 0);
  let n = 0;
  for (let i = at + CL.length; buf[i]! >= 0x30 && buf[i]! <= 0x39; i++) n = n * 10 + buf[i]! - 0x30;
  return n;
}

async function load(port: number, nodes: Node[], format: 'json' | 'msgpack', meter?: () => () => string) {
  const n = nodes.length;
  const requests = serialise(nodes, format, SECONDS + WARMUP);
  const conns = await connectAll(port, n);
  const total = requests.length;
  const lat = new Float64Array(total);
  let timed = 0,
    done = 0,
    failed = 0;
  const worst = new Array<number>(SECONDS).fill(0); // slowest reply of each timed second, ms
  const start = performance.now() + 100;
  const dueOf = (k: number) => start + (k * 1000) / n;
  let finish!: () => void;
  const finished = new Promise<void>((r) => (finish = r));
  const settle = (k: number, ok: boolean, now: number) => {
    // The first WARMUP seconds (JIT, first pages) are stored and counted but not timed.
    if (k >= WARMUP * n) {
      lat[timed++] = now - dueOf(k);
      const sec = Math.floor(k / n) - WARMUP;
      worst[sec] = Math.max(worst[sec]!, now - dueOf(k));
    }
    if (!ok) failed++;
    if (++done === total) finish();
  };

  for (const c of conns) {
    c.socket.on('data', (chunk: Buffer) => {
      const now = performance.now();
      const buf = c.rest ? Buffer.concat([c.rest, chunk]) : chunk;
      let off = 0;
      for (;;) {
        const end = buf.indexOf(CRLF2, off);
        if (end < 0) break;
        const len = contentLength(buf, off, end);
        if (buf.length < end + 4 + len) break;
        // "HTTP/1.1 200 ": the status code is bytes 9-11.
        const ok = buf[off + 9] === 0x32 && buf[off + 10] === 0x30 && buf[off + 11] === 0x30;
        off = end + 4 + len;
        settle(c.waiting.shift()!, ok, now);
      }
      c.rest = off < buf.length ? buf.subarray(off) : null;
    });
    c.socket.on('error', () => {});
    c.socket.on('close', () => {
      const now = performance.now();
      for (const k of c.waiting.splice(0)) settle(k, false, now);
    });
  }

  // Pacing: every millisecond, write whatever is due (a busy generator sends late,
  // and the lateness counts against the server's latency, as it would for an agent).
  let k = 0;
  let late = 0; // the generator's own worst lateness in writing a timed request, ms (its stalls count as latency)
  let stopMeter: (() => string) | undefined;
  await new Promise<void>((resolve) => {
    const tick = () => {
      const now = performance.now();
      while (k < total && dueOf(k) <= now) {
        if (k >= WARMUP * n) late = Math.max(late, now - dueOf(k));
        const c = conns[k % n]!;
        if (c.socket.destroyed) settle(k, false, now);
        else {
          c.waiting.push(k);
          c.socket.write(requests[k]!);
        }
        k++;
      }
      if (k < total) setTimeout(tick, 1);
      else resolve();
    };
    setTimeout(
      () => {
        stopMeter = meter?.();
        tick();
      },
      Math.max(0, start - performance.now()),
    );
  });
  const sentAll = performance.now();
  const cpu = stopMeter?.() ?? '';
  await Promise.race([finished, new Promise((r) => setTimeout(r, 30_000))]);
  for (const c of conns) c.socket.destroy(); // unanswered requests count as failed
  const elapsed = (sentAll - start) / 1000;
  const sorted = lat.subarray(0, timed).sort();
  const pct = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
  return {
    cpu,
    worst,
    late,
    sent: total,
    failed: failed + (total - done),
    p50: pct(0.5),
    p99: pct(0.99),
    max: sorted[sorted.length - 1]!,
    rate: total / elapsed,
  };
}

/** CPU seconds (user + system) used so far by a process, plus, with `children`, by its reaped and live children. */
function cpuSeconds(pid: number, children = false): number {
  const fields = (p: number) => {
    const stat = fs.readFileSync(`/proc/${p}/stat`, 'utf8');
    return stat
      .slice(stat.lastIndexOf(')') + 2)
      .split(' ')
      .map(Number); // [0] is field 3 (state)
  };
  const HZ = 100;
  const f = fields(pid);
  let ticks = f[11]! + f[12]!;
  if (children) {
    ticks += f[13]! + f[14]!; // children already reaped
    for (const d of fs.readdirSync('/proc')) {
      if (!/^\d+$/.test(d)) continue;
      try {
        const c = fields(Number(d));
        if (c[1] === pid) ticks += c[11]! + c[12]!;
      } catch {
        /* exited meanwhile */
      }
    }
  }
  return ticks / HZ;
}

/** CPU seconds the whole machine spent busy (all cores, from /proc/stat). */
function machineBusy(): number {
  const [, user, nice, system, , , irq, softirq, steal] = fs
    .readFileSync('/proc/stat', 'utf8')
    .split('\n')[0]!
    .trim()
    .split(/\s+/)
    .map(Number);
  return (user! + nice! + system! + irq! + softirq! + steal!) / 100;
}

/**
 * CPU of the server, PostgreSQL (postmaster and all its processes), this
 * generator and everything else on the machine (other work, the kernel), in %
 * of one core: "srv/pg/gen/other".
 */
function cpuMeter(serverPid: number, postmasterPid: number) {
  const read = () => ({
    t: performance.now(),
    srv: cpuSeconds(serverPid),
    pg: cpuSeconds(postmasterPid, true),
    gen: cpuSeconds(process.pid),
    all: machineBusy(),
  });
  const a = read();
  return () => {
    const b = read();
    const wall = (b.t - a.t) / 1000;
    const pc = (x: number) => ((100 * x) / wall).toFixed(0);
    const [srv, pg, gen] = [b.srv - a.srv, b.pg - a.pg, b.gen - a.gen];
    return `${pc(srv)}/${pc(pg)}/${pc(gen)}/${pc(Math.max(0, b.all - a.all - srv - pg - gen))}`;
  };
}

async function main() {
  const pgServer = await startPostgres({ durable: true, settings: { shared_buffers: '512MB', max_wal_size: '4GB' } });
  const rows: string[][] = [];
  const best: Record<string, number> = {};
  try {
    const { base, port, child } = await startServer(pgServer.url); // migrates the database
    const db = new pg.Pool({ connectionString: pgServer.url, max: 4 });
    try {
      const {
        rows: [me],
      } = await db.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
      const postmaster = Number(fs.readFileSync(`/proc/${me!.pid}/stat`, 'utf8').split(') ')[1]!.split(' ')[1]);
      const meter = () => cpuMeter(child.pid!, postmaster);
      const { rows: w } = await db.query<{ id: number }>(`INSERT INTO workspaces (uuid, name) VALUES ($1, 'bench') RETURNING id`, [
        crypto.randomUUID(),
      ]);
      const ws = Number(w[0]!.id);
      // Warm the server and the database up once (JIT, plans, first pages) before anything is timed.
      await load(port, await createNodes(db, ws, 1000, 'warmup'), 'json');
      for (const format of FORMATS) {
        for (const n of STEPS) {
          await db.query('DELETE FROM nodes'); // cascades to samples
          await db.query('VACUUM ANALYZE');
          const nodes = await createNodes(db, ws, n, format);
          const commits = async () =>
            Number((await db.query(`SELECT xact_commit AS n FROM pg_stat_database WHERE datname = current_database()`)).rows[0].n);
          const c0 = await commits();
          const r = await load(port, nodes, format, meter);
          const c1 = await commits();
          const { rows: c } = await db.query<{ n: string }>('SELECT count(*) AS n FROM metrics_raw');
          const stored = Number(c[0]!.n);
          const ok = r.p99 < 100 && r.failed === 0 && stored === r.sent;
          rows.push([
            format,
            String(n),
            r.rate.toFixed(0),
            String(r.sent),
            String(stored),
            String(r.failed),
            r.p50.toFixed(1),
            r.p99.toFixed(1),
            r.max.toFixed(0),
            r.late.toFixed(0),
            r.cpu,
            ok ? 'yes' : 'no',
          ]);
          console.error(
            rows[rows.length - 1]!.join('\t'),
            `\ttransactions/s ${((c1 - c0) / (SECONDS + WARMUP)).toFixed(0)}\tslowest per second: ${r.worst.map((x) => x.toFixed(0)).join(' ')}`,
          );
          if (ok) best[format] = Math.max(best[format] ?? 0, n);
          else if (!process.env.BENCH_CONTINUE) break;
        }
      }
      // Scrape with 10,000 nodes, each with a last sample and a baseline.
      await db.query('DELETE FROM nodes');
      const nodes = await createNodes(db, ws, SCRAPE_NODES, 'scrape');
      const ids = nodes.map((x) => x.id);
      await db.query(
        `INSERT INTO node_last_sample (node_id, recorded_at, pps, bps, tcp_pct, udp_pct, icmp_pct, conn_count)
        SELECT id, now(), 1000 + id % 100, 8000000, 70, 25, 5, 100 FROM unnest($1::bigint[]) AS id`,
        [ids],
      );
      await db.query(
        `INSERT INTO baselines (node_id, mean_pps, p95_pps, p99_pps, samples)
        SELECT id, 900, 1100, 1200, 3600 FROM unnest($1::bigint[]) AS id`,
        [ids],
      );
      await db.query('VACUUM ANALYZE'); // as before each ingest step: no dead rows of the steps, fresh statistics
      const { rows: tk } = await db.query<{ id: number }>(
        `INSERT INTO tokens (public_id, workspace_id, secret_hash) VALUES ('benchbench12', $1, $2) RETURNING id`,
        [ws, hashSecret('s'.repeat(43))],
      );
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
  const head = [
    'format',
    'nodes',
    'req/s',
    'sent',
    'stored',
    'errors',
    'p50 ms',
    'p99 ms',
    'max ms',
    'gen late ms',
    'cpu % srv/pg/gen/other',
    'pass',
  ];
  const all = [head, ...rows];
  const w = head.map((_, i) => Math.max(...all.map((r) => r[i]!.length)));
  const line = (r: string[]) => `| ${r.map((c, i) => c.padEnd(w[i]!)).join(' | ')} |`;
  console.log(
    `\nIngest: ${SECONDS} s timed per step after ${WARMUP} s of warm-up, one sample per node per second, ${os.cpus().length} CPUs`,
  );
  console.log(line(head));
  console.log(`| ${w.map((n) => '-'.repeat(n)).join(' | ')} |`);
  for (const r of rows) console.log(line(r));
  console.log(`\nLargest node count with p99 < 100 ms and no sample lost: JSON ${best.json ?? 0}, MessagePack ${best.msgpack ?? 0}`);
  console.log(
    `GET /api/metrics with ${SCRAPE_NODES} nodes (${(scrape.bytes / 1e6).toFixed(1)} MB): first ${scrape.first.toFixed(0)} ms, median ${scrape.median.toFixed(0)} ms, max ${scrape.max.toFixed(0)} ms (5 warm scrapes)`,
  );
}

await main();
