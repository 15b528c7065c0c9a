// The lab: the one harness that builds namespaces, servers and agents, for the
// demo, the end-to-end and agent integration tests and the benchmarks. The
// veth network of topology.ts, the server (server.ts, embedded database) in
// this process, agents as child processes attached to the victim's interface
// (agents.ts), and, unless `traffic: false`, a legitimate background and an
// observer of the victim's own counters. close() removes all of it, also when
// a caller failed half-way; a run that crashed is cleaned up by the next
// start (records.ts).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Breakwater, PinnedView } from '../../native/index.ts';
import type { Logger } from '../../server/index.ts';
import type { AgentProc } from './agent-process.ts';
import { type AgentRecipe, LabAgents, waitAttached } from './agents.ts';
import { LAB_IOC_PATTERNS } from './attacks.ts';
import { Observer } from './observer.ts';
import { claimRecord } from './records.ts';
import { LabServer, userApi } from './server.ts';
import { createLab, firstPidIn, type Lab } from './topology.ts';
import { type Background, background, calibrate } from './traffic.ts';

export type { AgentExit, AgentProc } from './agent-process.ts';
export { type AgentRecipe, agentCommand } from './agents.ts';
export { ATTACKS, type Attack, type AttackKey, attackByKey, LAB_IOC_PATTERNS } from './attacks.ts';
export { cleanupStale } from './records.ts';
export { type LabServer, userApi } from './server.ts';
export type { Lab } from './topology.ts';

export interface LabOptions {
  /** Short tag (a-z0-9, at most 6): names of namespaces and links. */
  id: string;
  /** S in 198.18.S.0/24. */
  subnet: number;
  /** The node's pps threshold at the server (default: the server's). */
  thresholdPps?: number;
  /** Server port on 127.0.0.1 (0, the default: any free port). */
  port?: number;
  /** A PGlite data directory to use (removed by close()); default: a new one. */
  dataDir?: string;
  /** Server maintenance period (rollups, baselines), s; 0 (default): never. */
  maintenanceSeconds?: number;
  serverLog?: Logger;
  /** How the lab's agents run; `start: false` leaves starting them to the caller (run.startAgent). */
  agent?: AgentRecipe & { start?: boolean };
  /** The legitimate background, the observer and the generators' calibration (default true); false: a quiet lab. */
  traffic?: boolean;
}

export interface LabRun {
  id: string;
  net: Lab;
  /** stop() and restart() keep the port and the database. */
  server: LabServer;
  workspace: { id: number; token: string };
  node: { id: number; uuid: string; key: string };
  /** The agent started last (throws before the first). */
  readonly agent: AgentProc;
  /** One more agent with these flags after the recipe's; all are stopped by close(). */
  startAgent(args?: string[]): AgentProc;
  /** Only with traffic (else they throw). */
  readonly background: Background;
  readonly observer: Observer;
  /** Read-only view of the agent's program, opened on first use: counters and rules with their hit counts. */
  readonly kernel: PinnedView;
  /** User API call with the workspace token; JSON in and out. */
  user(method: string, p: string, body?: unknown): Promise<{ status: number; body: any }>;
  /** GET /api/metrics with the workspace token. */
  metrics(): Promise<string>;
  close(): Promise<void>;
}

const present = <T>(v: T | undefined, what: string): T => {
  if (v === undefined) throw new Error(`this lab has no ${what}`);
  return v;
};

export async function startLab(o: LabOptions): Promise<LabRun> {
  const record = claimRecord(o.id);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `breakwater-lab-${o.id}-`));
  record.addDir(dir);
  const dataDir = o.dataDir ?? path.join(dir, 'db');
  if (o.dataDir) record.addDir(o.dataDir);
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
    for (const d of record.dirs) fs.rmSync(d, { recursive: true, force: true });
    record.remove();
  };
  try {
    const server = await LabServer.start({ port: o.port ?? 0, dataDir, maintenanceSeconds: o.maintenanceSeconds, log: o.serverLog });
    undo.push(() => server.stop());
    const net = createLab(o.id, o.subnet);
    undo.push(() => net.destroy());
    const traffic = o.traffic ?? true;
    // Before the agent starts: the calibration packets must not count as traffic.
    if (traffic) await calibrate(net);
    const workspace = await server.admin.createWorkspace(`lab-${o.id}`);
    const patched = await userApi(server.url, workspace.token, 'PATCH', '/workspace', { ioc_patterns: LAB_IOC_PATTERNS });
    if (patched.status !== 200) throw new Error(`the lab's IOC patterns were refused: ${JSON.stringify(patched.body)}`);
    const node = await server.admin.createNode(workspace.id, `victim-${o.id}`, {
      ip: net.victimIp,
      ...(o.thresholdPps === undefined ? {} : { ppsThreshold: o.thresholdPps }),
    });
    // The victim's service comes first: the agent then finds a process in the
    // namespace (connections, the namespace's own addresses), and so does the observer.
    const bg = traffic ? background(net) : undefined;
    if (bg) undo.push(() => bg.stop());
    const observer = bg ? new Observer(`/proc/${await firstPidIn(net.victimNs)}/net`, net.victimIf).start() : undefined;
    if (observer) undo.push(() => observer.stop());

    const agents = new LabAgents(o.agent ?? {}, record, { net, serverUrl: server.url, node, dir });
    undo.push(async () => {
      await agents.stopAll();
      try {
        Breakwater.detachInterface(net.victimIf, { netns: net.victimNs });
      } catch {
        /* never attached, or detached already */
      }
    });
    let kernel: PinnedView | undefined;
    undo.push(() => kernel?.close());
    const openKernel = () => (kernel ??= PinnedView.open(net.victimIf, { netns: net.victimNs }));
    if (o.agent?.start ?? true) await waitAttached(agents.start(), openKernel);
    return {
      id: o.id,
      net,
      server,
      workspace,
      node,
      close,
      get agent() {
        return present(agents.latest, 'agent yet (run.startAgent())');
      },
      startAgent: (args) => agents.start(args),
      get background() {
        return present(bg, 'legitimate background (traffic: false)');
      },
      get observer() {
        return present(observer, 'observer (traffic: false)');
      },
      get kernel() {
        return openKernel();
      },
      user: (method, p, body) => userApi(server.url, workspace.token, method, p, body),
      async metrics() {
        const res = await fetch(`${server.url}/api/metrics`, { headers: { authorization: `Bearer ${workspace.token}` } });
        if (res.status !== 200) throw new Error(`/api/metrics answered ${res.status}`);
        return res.text();
      },
    };
  } catch (e) {
    await close();
    throw e;
  }
}
