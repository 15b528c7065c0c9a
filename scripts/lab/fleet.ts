// A fleet beside a lab run (startLab): `count` more nodes of the run's
// workspace, each with its own agent process attached with XDP to its own
// veth end. A host is a namespace holding up to `perHost` of those ends
// (agents sharing one host's namespace, each with its own pins, spool and
// state), their peers in a second one. Addresses 198.18.S.(10+i)/32, no
// IPv6, a blackhole default route in every namespace; nothing is sent to
// them (floods go to the run's victim). close() stops the agents, detaches
// them and removes the namespaces, pins and directories, also after a start
// that failed half-way; each host is a run record, so a crashed run's hosts,
// agents and directories go with the next start of any lab (records.ts).
// fleetFlood is a flood from a few fixed, real-looking sources (when agents
// wrote rules into their kernel maps: applied.ts).
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Breakwater, PinnedView } from '../../native/index.ts';
import type { AgentProc } from './agent-process.ts';
import { type AgentRecipe, LabAgents, waitAttached } from './agents.ts';
import type { LabRun } from './index.ts';
import { claimRecord } from './records.ts';
import type { Lab } from './topology.ts';
import { removeNamespace } from './topology.ts';
import { type Flow, ipv4Packet, trafgen } from './traffic.ts';

export interface FleetMember {
  index: number;
  netns: string;
  iface: string;
  ip: string;
  node: { id: number; uuid: string; key: string };
  agent: AgentProc;
  /** Read-only view of this agent's program: its rules. */
  kernel: PinnedView;
}

export interface Fleet {
  members: FleetMember[];
  close(): Promise<void>;
}

export interface FleetOptions {
  count: number;
  /** S of 198.18.S.0/24 (the run's own: the fleet takes .10 up). */
  subnet: number;
  /** Agents a host namespace holds (default 10). */
  perHost?: number;
  /** Default: the bundle with the production defaults (push on), log level info. */
  recipe?: AgentRecipe;
  /** Agents started at once (default 6). */
  batch?: number;
}

const ipBatch = (lines: string[], ns?: string) =>
  execFileSync('ip', [...(ns ? ['-n', ns] : []), '-batch', '-'], { input: `${lines.join('\n')}\n`, stdio: ['pipe', 'ignore', 'pipe'] });

export async function startFleet(run: LabRun, o: FleetOptions): Promise<Fleet> {
  if (o.count < 1 || o.count > 240) throw new Error(`a fleet of ${o.count}: 1 to 240 agents`);
  const perHost = o.perHost ?? 10;
  // Host H is lab `${id}fH` to the run records: its namespaces bear that lab's names (bwv-, bwa-), so
  // that the next start of any lab removes them, its agents and directories, should this process crash.
  const hosts = Array.from({ length: Math.ceil(o.count / perHost) }, (_, h) => {
    const id = `${run.id}f${h}`;
    return { ns: `bwv-${id}`, peers: `bwa-${id}`, record: claimRecord(id) };
  });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `breakwater-fleet-${run.id}-`));
  hosts[0]!.record.addDir(dir);
  const members: FleetMember[] = [];
  const agents: LabAgents[] = [];
  const views: PinnedView[] = [];
  const attached: { iface: string; netns: string }[] = [];
  const close = async () => {
    await Promise.all(agents.map((a) => a.stopAll()));
    for (const v of views) v.close();
    for (const m of attached) {
      try {
        Breakwater.detachInterface(m.iface, { netns: m.netns });
      } catch {
        /* never attached, or gone */
      }
    }
    for (const h of hosts) {
      removeNamespace(h.ns);
      removeNamespace(h.peers);
    }
    fs.rmSync(dir, { recursive: true, force: true });
    for (const h of hosts) h.record.remove();
  };
  try {
    for (const ns of hosts.flatMap((h) => [h.ns, h.peers])) {
      execFileSync('ip', ['netns', 'add', ns]);
      // Before any link: every device made in the namespace inherits "no IPv6" (no router solicitations).
      execFileSync('ip', [
        'netns',
        'exec',
        ns,
        'sysctl',
        '-qw',
        'net.ipv6.conf.default.disable_ipv6=1',
        'net.ipv6.conf.all.disable_ipv6=1',
      ]);
      ipBatch(['link set lo up', 'route add blackhole default'], ns);
    }
    const at = Array.from({ length: o.count }, (_, i) => ({
      i,
      host: hosts[Math.floor(i / perHost)]!,
      iface: `f${run.id}${i}`,
      peer: `g${run.id}${i}`,
      ip: `198.18.${o.subnet}.${10 + i}`,
    }));
    ipBatch(at.map((m) => `link add ${m.iface} netns ${m.host.ns} type veth peer name ${m.peer} netns ${m.host.peers}`));
    for (const h of hosts) {
      const mine = at.filter((m) => m.host === h);
      ipBatch(
        mine.flatMap((m) => [`addr add ${m.ip}/32 dev ${m.iface}`, `link set ${m.iface} up`]),
        h.ns,
      );
      ipBatch(
        mine.map((m) => `link set ${m.peer} up`),
        h.peers,
      );
    }
    const recipe: AgentRecipe = o.recipe ?? { from: 'bundle', polling: 'production', logLevel: 'info' };
    const startOne = async (m: (typeof at)[number]) => {
      const node = await run.server.admin.createNode(run.workspace.id, `fleet-${run.id}-${m.i}`, { ip: m.ip });
      const net = { ...run.net, victimNs: m.host.ns, victimIf: m.iface } satisfies Lab;
      const a = new LabAgents(recipe, m.host.record, { net, serverUrl: run.server.url, node, dir: path.join(dir, `m${m.i}`) });
      agents.push(a);
      const agent = a.start();
      attached.push({ iface: m.iface, netns: m.host.ns });
      const kernel = await waitAttached(agent, () => PinnedView.open(m.iface, { netns: m.host.ns }), 60_000);
      views.push(kernel);
      await agent.waitLog(/"msg":"push channel open"/, 60_000);
      members.push({ index: m.i, netns: m.host.ns, iface: m.iface, ip: m.ip, node, agent, kernel });
    };
    for (let b = 0; b < at.length; b += o.batch ?? 6) await Promise.all(at.slice(b, b + (o.batch ?? 6)).map(startOne));
    members.sort((x, y) => x.index - y.index);
    return { members, close };
  } catch (e) {
    await close();
    throw e;
  }
}

/** A UDP flood at the run's victim from a few fixed sources (TTL 64, a real host's: not judged spoofed), each an equal share. */
export function fleetFlood(lab: Lab, sources: readonly string[], pps: number, seconds: number): Flow {
  const packet = (src: string) =>
    ipv4Packet(lab, { src: `saddr=${src}`, proto: 'udp', l4: 'udp(sp=drnd(), dp=5353)', payload: 'fill(0x42, 64)' });
  return trafgen(lab, sources.map(packet), pps, seconds);
}
