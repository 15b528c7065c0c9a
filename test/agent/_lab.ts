// Harness of the agent's integration tests: an in-process server (embedded
// database), the veth lab of test/helpers/netns.ts, and the agent as a child
// process (so it can be SIGTERMed, SIGKILLed and restarted) attached to the
// victim's interface inside the victim namespace. Teardown removes the
// program, pins, namespaces and temp dirs even when a test fails.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ExecutionContext } from 'ava';
import { Breakwater } from '../../native/index.ts';
import { spawnAgent, type AgentProc } from '../../scripts/lab/agent-process.ts';
import { userApi } from '../../scripts/lab/index.ts';
import { ipv4Packet, SPOOFED_SOURCES, trafgen } from '../../scripts/lab/traffic.ts';
import { startServer, silentLogger, type RunningServer } from '../../server/index.ts';
import { createLab, type Lab } from '../helpers/netns.ts';
import { freshDataDir } from '../server/_harness.ts';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');

export interface World {
  srv: RunningServer;
  lab: Lab;
  ws: { id: number; token: string };
  node: { id: number; uuid: string; key: string };
  dir: string;
  /** User API call with the workspace token. */
  user(method: string, p: string, body?: unknown): Promise<{ status: number; body: any }>;
  startAgent(extra?: string[]): AgentProc;
  /** Stops the server (agents see connection refused) / starts it again on the same port and database. */
  stopServer(): Promise<void>;
  restartServer(): Promise<void>;
}

export type { AgentProc };

export async function world(t: ExecutionContext, id: string, subnet: number, serverOpts: { port?: number } = {}): Promise<World> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bw-agent-it-'));
  const dataDir = await freshDataDir();
  const srv = await startServer({ port: serverOpts.port ?? 0, host: '127.0.0.1', dataDir, log: silentLogger, maintenanceIntervalSeconds: 0 });
  const lab = createLab(id, subnet);
  const procs: AgentProc[] = [];
  t.teardown(async () => {
    for (const p of procs) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
    await Promise.all(procs.map((p) => p.exited));
    try {
      Breakwater.detachInterface(lab.victimIf, { netns: lab.victimNs });
    } catch {
      /* not attached */
    }
    lab.destroy();
    await w.srv.close().catch(() => {});
    fs.rmSync(dir, { recursive: true, force: true });
    fs.rmSync(dataDir, { recursive: true, force: true });
  });
  const ws = await srv.admin.createWorkspace(`lab-${id}`);
  const node = await srv.admin.createNode(ws.id, `victim-${id}`);
  const w: World = {
    srv, lab, ws, node, dir,
    async stopServer() {
      await w.srv.close();
    },
    async restartServer() {
      w.srv = await startServer({ port: w.srv.port, host: '127.0.0.1', dataDir, log: silentLogger, maintenanceIntervalSeconds: 0 });
    },
    user: (method, p, body) => userApi(w.srv.url, ws.token, method, p, body),
    startAgent(extra = []) {
      const p = spawnAgent(['--import', 'tsx', path.join(root, 'agent/cli.ts'), 'agent',
        '--iface', lab.victimIf, '--netns', lab.victimNs, '--server', w.srv.url,
        '--spool-dir', path.join(dir, 'spool'), '--state-dir', path.join(dir, 'state'),
        '--log-level', 'debug', ...extra], { ...process.env, BREAKWATER_NODE_UUID: node.uuid, BREAKWATER_API_KEY: node.key });
      if (process.env.BW_AGENT_LOG) p.onLine = (line) => console.error(`[agent] ${line}`);
      procs.push(p);
      return p;
    },
  };
  return w;
}

/**
 * A UDP flood from the attacker namespace: `pps` packets a second for
 * `seconds`, bounded by count and a timeout. `spoofed`: sources random in
 * 198.19.0.0/16 (inside the lab range; the victim's blackhole route eats any
 * answer). Returns the number of packets sent.
 */
export async function floodUdp(lab: Lab, o: { pps: number; seconds: number; spoofed?: boolean; dport?: number; sources?: string[] }): Promise<number> {
  const srcs = o.spoofed ? [SPOOFED_SOURCES] : (o.sources ?? [lab.attackerIp]).map((a) => `saddr=${a}`);
  // One packet template per source: trafgen sends them in turn.
  const packets = srcs.map((src) => ipv4Packet(lab, { src, proto: 'udp', l4: `udp(sp=40000, dp=${o.dport ?? 9})`, payload: 'fill(0x41, 18)' }));
  await trafgen(lab, packets, o.pps, o.seconds).done;
  return Math.round(o.pps * o.seconds);
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls fn until it returns a truthy value or ms pass. */
export async function until<T>(fn: () => Promise<T | undefined | null | false>, ms: number, every = 200): Promise<T | undefined> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) return undefined;
    await sleep(every);
  }
}
