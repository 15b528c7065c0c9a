// The lab, reused by the demo, the end-to-end tests and the latency
// benchmark: the veth network of topology.ts, the server (embedded database)
// in this process, the agent as a child process attached to the victim's
// interface, a legitimate background, and an observer of the victim's own
// counters. close() removes all of it; a run that crashed is cleaned up by
// the next start with the same id (its record is kept under /run).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Breakwater, PinnedView } from '../../native/index.ts';
import { startServer, silentLogger, type Logger, type RunningServer } from '../../server/index.ts';
import { spawnAgent, type AgentProc } from './agent-process.ts';
import { Observer } from './observer.ts';
import { createLab, removeNamespace, type Lab } from './topology.ts';
import { background, calibrate, type Background } from './traffic.ts';

export { ATTACKS, attackByKey, type Attack, type AttackKey } from './attacks.ts';
export type { Lab } from './topology.ts';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');
const RECORDS = '/run/breakwater-lab';

export interface LabOptions {
  /** Short tag (a-z0-9, at most 6): names of namespaces and links. */
  id: string;
  /** S in 198.18.S.0/24. */
  subnet: number;
  /** The node's pps threshold at the server. */
  thresholdPps: number;
  autoMitigate?: boolean;
  /** Server port on 127.0.0.1 (0: any free port). */
  port?: number;
  /** A PGlite data directory to use (removed by close()); default: a new one. */
  dataDir?: string;
  /** Server maintenance period (rollups, baselines), s; 0: never. */
  maintenanceSeconds?: number;
  /** More agent flags. */
  agentArgs?: string[];
  serverLog?: Logger;
  /** Every agent log line. */
  onAgentLine?: (line: string) => void;
}

export interface LabRun {
  net: Lab;
  server: RunningServer;
  workspace: { id: number; token: string };
  node: { id: number; uuid: string; key: string };
  agent: AgentProc;
  background: Background;
  observer: Observer;
  /** Read-only view of the agent's program: counters and rules with their hit counts. */
  kernel: PinnedView;
  /** User API call with the workspace token; JSON in and out. */
  user(method: string, p: string, body?: unknown): Promise<{ status: number; body: any }>;
  /** GET /api/metrics with the workspace token. */
  metrics(): Promise<string>;
  close(): Promise<void>;
}

/** One user API call with a workspace token; JSON in and out. */
export async function userApi(baseUrl: string, token: string, method: string, p: string, body?: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(`${baseUrl}/api/v1${p}`, {
    method, headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

interface LabRecord { pid: number; agentPid?: number; dirs: string[] }

function alive(pid: number | undefined, mustContain?: string): boolean {
  if (!pid) return false;
  try {
    process.kill(pid, 0);
    return mustContain ? fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(mustContain) : true;
  } catch {
    return false;
  }
}

/** Removes what a previous run with this id left (namespaces, pins, its agent, its directories). */
export function cleanupStale(id: string): void {
  const file = path.join(RECORDS, `${id}.json`);
  let rec: LabRecord | undefined;
  try {
    rec = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch {
    /* no record */
  }
  if (rec && rec.pid !== process.pid && alive(rec.pid))
    throw new Error(`lab '${id}' is in use by process ${rec.pid}; stop it first`);
  if (rec && alive(rec.agentPid, 'agent')) process.kill(rec.agentPid!, 'SIGKILL');
  removeNamespace(`bwv-${id}`);
  removeNamespace(`bwa-${id}`);
  for (const d of rec?.dirs ?? []) fs.rmSync(d, { recursive: true, force: true });
  fs.rmSync(file, { force: true });
}

function writeRecord(id: string, rec: LabRecord): void {
  fs.mkdirSync(RECORDS, { recursive: true });
  fs.writeFileSync(path.join(RECORDS, `${id}.json`), JSON.stringify(rec));
}

export async function startLab(o: LabOptions): Promise<LabRun> {
  cleanupStale(o.id);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `breakwater-lab-${o.id}-`));
  const dataDir = o.dataDir ?? path.join(dir, 'db');
  const rec: LabRecord = { pid: process.pid, dirs: [dir, dataDir] };
  writeRecord(o.id, rec);
  const undo: (() => Promise<void> | void)[] = [];
  const close = async () => {
    for (const f of undo.reverse()) {
      try {
        await f();
      } catch {
        /* keep removing the rest */
      }
    }
    undo.length = 0;
    for (const d of rec.dirs) fs.rmSync(d, { recursive: true, force: true });
    fs.rmSync(path.join(RECORDS, `${o.id}.json`), { force: true });
  };
  try {
    const server = await startServer({ port: o.port ?? 0, host: '127.0.0.1', dataDir, log: o.serverLog ?? silentLogger,
      maintenanceIntervalSeconds: o.maintenanceSeconds ?? 0 });
    undo.push(() => server.close());
    const net = createLab(o.id, o.subnet);
    undo.push(() => net.destroy());
    // Before the agent starts: the calibration packets must not count as traffic.
    await calibrate(net);
    const ws = await server.admin.createWorkspace(`lab-${o.id}`);
    const node = await server.admin.createNode(ws.id, `victim-${o.id}`, { ip: net.victimIp, ppsThreshold: o.thresholdPps });
    const user: LabRun['user'] = (method, p, body) => userApi(server.url, ws.token, method, p, body);

    // The victim's service comes first: the agent then finds a process in the
    // namespace (connections, the namespace's own addresses), and so does the observer.
    const bg = background(net);
    undo.push(() => bg.stop());
    const servicePid = await waitForPidIn(net.victimNs);
    const observer = new Observer(`/proc/${servicePid}/net`, net.victimIf).start();
    undo.push(() => observer.stop());

    const agent = spawnAgent([path.join(root, 'scripts/breakwater.mjs'), 'agent',
      '--iface', net.victimIf, '--netns', net.victimNs, '--server', server.url,
      '--spool-dir', path.join(dir, 'spool'), '--state-dir', path.join(dir, 'state'),
      // A lab wants commands within a second, not within the production poll periods.
      '--config-ms', '1000', '--config-attack-ms', '1000', '--heartbeat-ms', '5000',
      '--detach-on-exit', '--log-level', 'debug',
      ...(o.autoMitigate ? ['--auto-mitigate'] : []), ...(o.agentArgs ?? [])],
    { ...process.env, BREAKWATER_NODE_UUID: node.uuid, BREAKWATER_API_KEY: node.key });
    agent.onLine = o.onAgentLine;
    rec.agentPid = agent.child.pid;
    writeRecord(o.id, rec);
    undo.push(async () => {
      if (agent.child.exitCode === null && agent.child.signalCode === null) {
        agent.child.kill('SIGTERM');
        const timer = setTimeout(() => agent.child.kill('SIGKILL'), 5000);
        await agent.exited;
        clearTimeout(timer);
      }
      try {
        Breakwater.detachInterface(net.victimIf, { netns: net.victimNs });
      } catch {
        /* the agent removed it (detach on exit) */
      }
    });
    await agent.waitLog(/"msg":"(attached|adopted the pinned program)"/, 30_000);
    const kernel = PinnedView.open(net.victimIf, { netns: net.victimNs });
    undo.push(() => kernel.close());
    return {
      net, server, workspace: ws, node, agent, background: bg, observer, kernel, user, close,
      async metrics() {
        const res = await fetch(`${server.url}/api/metrics`, { headers: { authorization: `Bearer ${ws.token}` } });
        if (res.status !== 200) throw new Error(`/api/metrics answered ${res.status}`);
        return res.text();
      },
    };
  } catch (e) {
    await close();
    throw e;
  }
}

/** The first process living in a namespace (it may take a moment to start). */
async function waitForPidIn(ns: string): Promise<number> {
  const ino = fs.statSync(`/var/run/netns/${ns}`).ino;
  for (let i = 0; i < 100; i++) {
    for (const pid of fs.readdirSync('/proc')) {
      if (!/^\d+$/.test(pid)) continue;
      try {
        if (fs.statSync(`/proc/${pid}/ns/net`).ino === ino) return Number(pid);
      } catch {
        /* gone */
      }
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`no process started in namespace ${ns}`);
}
