// The push channel at rest: ONE server process holding 5,000 idle agent push
// streams (GET /api/v1/agent/events), each opened with the agent's own client
// and SSE reader. The server runs in a child (this file again, `--server`),
// so the memory it reports is its own and not the clients'; it answers
// `process.memoryUsage()` after a forced GC over IPC. Reports the server's
// memory with 0, 1,000 and 5,000 streams, the time to open them, its CPU
// while they idle (pings included), that every one is still open after, and
// how long one workspace change takes to reach all of them. Embedded
// database (PGlite); clients and server share this machine.
//
//   npm run bench:push-idle [-- --streams 5000 --idle 20]
import { type ChildProcess, execFileSync, fork } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { AgentClient } from '../agent/http.ts';
import { SseReader } from '../agent/sse.ts';
import { silentLogger, startServer } from '../server/index.ts';
import { bearer, request } from '../test/helpers/http.ts';
import { freshDataDir } from '../test/server/_harness.ts';

const arg = (name: string, dflt: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const STREAMS = arg('streams', 5000);
const IDLE_S = arg('idle', 20);
const FIRST = Math.min(1000, STREAMS);
/** Streams being opened at once: the listen backlog is finite. */
const CONCURRENCY = 200;
const OVERALL_MS = 5 * 60_000;
const PUSH_WAIT_MS = 60_000;

type NodeCreds = { uuid: string; key: string };
type Mem = { rss: number; heapUsed: number; external: number };
type Lag = { p99: number; max: number };
type FromServer =
  | { type: 'ready'; url: string; port: number; token: string; nodes: NodeCreds[]; createMs: number }
  | ({ type: 'mem' } & Mem)
  | ({ type: 'lag' } & Lag);

// ---- the child: the server, the workspace and its nodes, memory on request.
async function serve(dataDir: string, n: number): Promise<void> {
  const send = (m: FromServer) => process.send!(m);
  const srv = await startServer({
    port: 0,
    host: '127.0.0.1',
    dataDir,
    log: silentLogger,
    maintenanceIntervalSeconds: 0,
    authFailuresPerMinute: 0,
  });
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    // A hard limit: streams a dead parent left must not keep the process.
    setTimeout(() => process.exit(1), 10_000).unref();
    void srv.close().then(() => process.exit(0));
  };
  process.on('disconnect', stop); // the parent is gone, or done
  // The server's event-loop delay since the last 'lag' request: how long a request would wait to be read.
  const lag = monitorEventLoopDelay({ resolution: 10 });
  lag.enable();
  process.on('message', (m: { type: string }) => {
    if (m.type === 'stop') stop();
    if (m.type === 'lag') {
      send({ type: 'lag', p99: lag.percentile(99) / 1e6, max: lag.max / 1e6 });
      lag.reset();
    }
    if (m.type === 'mem') {
      // Twice: a first pass may leave what only finalisers freed.
      globalThis.gc!();
      globalThis.gc!();
      const u = process.memoryUsage();
      send({ type: 'mem', rss: u.rss, heapUsed: u.heapUsed, external: u.external });
    }
  });
  const ws = await srv.admin.createWorkspace('bench-push');
  const t0 = performance.now();
  const nodes: NodeCreds[] = [];
  // One at a time, as the admin API does it (each in its own transaction).
  for (let i = 0; i < n; i++) {
    const { uuid, key } = await srv.admin.createNode(ws.id, `edge-${i}`);
    nodes.push({ uuid, key });
  }
  send({ type: 'ready', url: srv.url, port: srv.port, token: ws.token, nodes, createMs: performance.now() - t0 });
}

// ---- the parent: the clients, the measurements, the table.
interface Stream {
  abort: AbortController;
  /** performance.now() of each config event. */
  configs: number[];
  /** The last config event's IOC pattern names. */
  patterns: string[];
  pings: number;
  ended: boolean;
}

/** Opens one node's stream; resolves at its first config event, reading on behind it. */
async function openStream(url: string, node: NodeCreds): Promise<Stream> {
  const s: Stream = { abort: new AbortController(), configs: [], patterns: [], pings: 0, ended: false };
  const res = await new AgentClient({ server: url, nodeUuid: node.uuid, apiKey: node.key }).open('/events', s.abort.signal);
  if (!res.body) throw new Error('a push stream without a body');
  const body = res.body as unknown as AsyncIterable<Uint8Array>;
  await new Promise<void>((resolve, reject) => {
    void (async () => {
      const reader = new SseReader();
      try {
        for await (const chunk of body)
          for (const ev of reader.push(chunk, () => s.pings++)) {
            if (ev.event !== 'config') continue;
            s.configs.push(performance.now());
            s.patterns = (JSON.parse(ev.data).ioc_patterns ?? []).map((p: { attack_name: string }) => p.attack_name);
            resolve();
          }
      } catch (e) {
        if (!s.abort.signal.aborted) reject(e);
      } finally {
        s.ended = true;
        reject(new Error('the stream ended before its first config event'));
      }
    })();
  });
  return s;
}

/** Opens the nodes' streams, CONCURRENCY at a time; returns them and the ms it took. */
async function openAll(url: string, nodes: NodeCreds[], into: Stream[]): Promise<number> {
  const t0 = performance.now();
  let next = 0;
  const worker = async () => {
    while (next < nodes.length) into.push(await openStream(url, nodes[next++]!));
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  return performance.now() - t0;
}

/** Asks the server for its memory (after a GC) or its event-loop delay since the last ask. */
function ask(child: ChildProcess, type: 'mem'): Promise<Mem>;
function ask(child: ChildProcess, type: 'lag'): Promise<Lag>;
function ask(child: ChildProcess, type: 'mem' | 'lag'): Promise<Mem | Lag> {
  return new Promise((resolve) => {
    const on = (m: FromServer) => {
      if (m.type !== type) return;
      child.off('message', on);
      resolve(m);
    };
    child.on('message', on);
    child.send({ type });
  });
}

/** The process's user + system CPU time, seconds (/proc/<pid>/stat fields 14 and 15). */
const TICKS = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }));
function cpuSeconds(pid: number): number {
  const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(f[11]) + Number(f[12])) / TICKS;
}

/** TCP connections the server holds on its port, as the kernel counts them. */
const established = (port: number) =>
  execFileSync('ss', ['-Htn', 'state', 'established', `( sport = :${port} )`], { encoding: 'utf8' })
    .split('\n')
    .filter(Boolean).length;

const pct = (xs: number[], p: number) => xs[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))] ?? NaN;
const mb = (b: number) => `${(b / 2 ** 20).toFixed(1)} MB`;
const kb = (b: number) => `${(b / 1024).toFixed(1)} KB`;
const ms = (x: number) => `${x.toFixed(0)} ms`;
const sleep = (t: number) => new Promise((r) => setTimeout(r, t));

async function main(): Promise<void> {
  const dataDir = await freshDataDir();
  const streams: Stream[] = [];
  let child: ChildProcess | undefined;
  const cleanup = async () => {
    for (const s of streams) s.abort.abort();
    if (child && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child!.once('exit', r));
      if (child.connected) child.send({ type: 'stop' });
      const kill = setTimeout(() => child!.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(kill);
    }
    fs.rmSync(dataDir, { recursive: true, force: true });
  };
  const abandon = (why: string) => {
    console.error(why);
    void cleanup().finally(() => process.exit(1));
  };
  setTimeout(() => abandon(`bench:push-idle: not done in ${OVERALL_MS / 1000} s`), OVERALL_MS).unref();
  process.once('SIGINT', () => abandon('interrupted'));

  try {
    child = fork(import.meta.filename, ['--server', dataDir, String(STREAMS)], {
      execArgv: [...process.execArgv, '--expose-gc'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const server = child;
    const ready = await new Promise<Extract<FromServer, { type: 'ready' }>>((resolve, reject) => {
      server.once('exit', (code) => reject(new Error(`the server exited (${code}) before it was ready`)));
      server.on('message', (m: FromServer) => m.type === 'ready' && resolve(m));
    });
    const pid = server.pid!;
    console.log(`server pid ${pid} at ${ready.url}; ${STREAMS} nodes created in ${ms(ready.createMs)}`);

    const mem0 = await ask(server, 'mem');
    const openFirst = await openAll(ready.url, ready.nodes.slice(0, FIRST), streams);
    const mem1 = await ask(server, 'mem');
    const openRest = await openAll(ready.url, ready.nodes.slice(FIRST), streams);
    const memN = await ask(server, 'mem');
    const open = established(ready.port);
    console.log(`${streams.length} streams open in ${ms(openFirst + openRest)}; ${open} established connections at the server`);

    const pings0 = streams.map((s) => s.pings);
    const cpu0 = cpuSeconds(pid);
    const t0 = performance.now();
    await sleep(IDLE_S * 1000);
    const idleCpu = (100 * (cpuSeconds(pid) - cpu0)) / ((performance.now() - t0) / 1000);
    const live = streams.filter((s) => !s.ended).length;
    const pinged = streams.filter((s, i) => s.pings > pings0[i]!).length;
    const openAfter = established(ready.port);
    const memIdle = await ask(server, 'mem');

    // One workspace change: every stream should bring a second config event with the pattern.
    await ask(server, 'lag');
    const sent = performance.now();
    const r = await request(ready.url, 'PATCH', '/api/v1/workspace', {
      headers: bearer(ready.token),
      json: { ioc_patterns: [{ attack_name: 'bench', attack_family: 'udp_flood', text: 'bench' }] },
    });
    const returned = performance.now();
    if (r.status !== 200) throw new Error(`PATCH /api/v1/workspace: ${r.status} ${JSON.stringify(r.body)}`);
    // Meanwhile, is the server still answering? /healthz runs one statement.
    const health = request(ready.url, 'GET', '/healthz').then(() => performance.now() - returned);
    const got = () => streams.filter((s) => s.configs.length >= 2 && s.patterns[0] === 'bench').length;
    while (got() < streams.length && performance.now() - returned < PUSH_WAIT_MS) await sleep(10);
    const arrivals = streams
      .filter((s) => s.configs.length >= 2)
      .map((s) => s.configs[1]! - returned)
      .sort((a, b) => a - b);
    const healthMs = await health;
    const pushLag = await ask(server, 'lag');
    const memPush = await ask(server, 'mem');

    const d = (a: Mem, b: Mem, k: keyof Mem) => (b[k] - a[k]) / (streams.length - FIRST || 1);
    const per = (k: keyof Mem) => (memN[k] - mem0[k]) / streams.length;
    const rows: [string, string][] = [
      ['machine', `${os.cpus()[0]?.model} × ${os.cpus().length}, ${os.platform()} ${os.release()}, Node ${process.version}`],
      [`create ${STREAMS} nodes (admin.createNode, one by one)`, ms(ready.createMs)],
      ['server RSS / heapUsed / external, 0 streams', `${mb(mem0.rss)} / ${mb(mem0.heapUsed)} / ${mb(mem0.external)}`],
      [`… with ${FIRST} streams`, `${mb(mem1.rss)} / ${mb(mem1.heapUsed)} / ${mb(mem1.external)}`],
      [`… with ${streams.length} streams`, `${mb(memN.rss)} / ${mb(memN.heapUsed)} / ${mb(memN.external)}`],
      [`… after ${IDLE_S} s idle`, `${mb(memIdle.rss)} / ${mb(memIdle.heapUsed)} / ${mb(memIdle.external)}`],
      ['… after the push', `${mb(memPush.rss)} / ${mb(memPush.heapUsed)} / ${mb(memPush.external)}`],
      ['per stream, RSS / heapUsed (0 → all)', `${kb(per('rss'))} / ${kb(per('heapUsed'))}`],
      [`per stream, RSS / heapUsed (${FIRST} → all)`, `${kb(d(mem1, memN, 'rss'))} / ${kb(d(mem1, memN, 'heapUsed'))}`],
      [
        `open ${streams.length} streams (${CONCURRENCY} at a time, until each first config)`,
        `${ms(openFirst + openRest)} (${((1000 * streams.length) / (openFirst + openRest)).toFixed(0)}/s)`,
      ],
      ['established connections at the server port (ss)', `${open} after opening, ${openAfter} after idle`],
      [`server CPU over ${IDLE_S} s idle (pings every 15 s)`, `${idleCpu.toFixed(2)} % of one core`],
      [`streams still open after ${IDLE_S} s / pinged meanwhile`, `${live} / ${pinged} of ${streams.length}`],
      ['PATCH /api/v1/workspace round trip', ms(returned - sent)],
      [`new config received (of ${streams.length})`, `${got()}`],
      [
        'arrival since the PATCH returned, p50 / p95 / max',
        `${ms(pct(arrivals, 50))} / ${ms(pct(arrivals, 95))} / ${ms(arrivals.at(-1) ?? NaN)}`,
      ],
      ['all received, since the PATCH was sent', ms((arrivals.at(-1) ?? NaN) + returned - sent)],
      ['GET /healthz sent as the PATCH returned, answered after', ms(healthMs)],
      ['server event-loop delay during the push, p99 / max', `${ms(pushLag.p99)} / ${ms(pushLag.max)}`],
    ];
    console.log(`\n${streams.length} idle push streams on one server process (embedded database)\n`);
    console.log('| measure | value |\n| --- | --- |');
    for (const [k, v] of rows) console.log(`| ${k} | ${v} |`);
    if (live < streams.length || got() < streams.length) process.exitCode = 1;
  } finally {
    await cleanup();
  }
}

if (process.argv[2] === '--server') await serve(process.argv[3]!, Number(process.argv[4]));
else await main();
