// The lab's agents: which agent runs (the bundle a host runs, or the sources
// through tsx), with the lab's poll periods or the production defaults, and
// with what more flags. Every agent is a child process attached to the
// victim's interface from outside the namespace (--netns); each is recorded
// (records.ts) so a crashed run's agents are killed by the next start, and
// stopAll() stops them at the end of a run.
import fs from 'node:fs';
import path from 'node:path';
import { type AgentProc, spawnAgent } from './agent-process.ts';
import type { RunRecord } from './records.ts';
import type { Lab } from './topology.ts';
import { until } from './wait.ts';

export interface AgentRecipe {
  /** 'bundle' (default): dist/agent.mjs, the bundle `breakwater agent` runs on a host; 'source': agent/cli.ts through tsx (the code as it is now). */
  from?: 'bundle' | 'source';
  /**
   * 'lab' (default): the agent's config poll periods (60 s, 10 s under attack: commands come by push)
   * and a heartbeat every 5 s, so node status settles quickly; 'production': every default (heartbeat 30 s).
   */
  polling?: 'lab' | 'production';
  /** --auto-mitigate: the agent drops the attack itself. */
  autoMitigate?: boolean;
  /** Default 'debug' (tests and the demo wait on log lines). */
  logLevel?: 'debug' | 'info' | 'warn' | 'error';
  /** More flags for every agent of the lab; an agent's own flags (start()) follow and win. */
  args?: string[];
  /** Every log line of every agent. BW_AGENT_LOG=1 also copies them to stderr. */
  onLine?: (line: string) => void;
}

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');
// Config polls stay at the production periods: rules and config come by push, as on a real host
// (the lab polled every second once, and reported an onset -> drop no host would see).
const LAB_POLLING = ['--heartbeat-ms', '5000'];
/** The lab's addresses are reserved ranges: its agents place them with the test country database (docs/geo.md); BW_LAB_GEO names another (a path, a package, or off). */
const LAB_GEO = process.env.BW_LAB_GEO ?? path.join(root, 'test/fixtures/geo');

/** node's own options for every lab agent (BW_AGENT_NODE_ARGS, space-separated: --perf-basic-prof), which NODE_OPTIONS refuses. */
const NODE_ARGS = (process.env.BW_AGENT_NODE_ARGS ?? '').split(' ').filter(Boolean);

/** node's arguments that run the agent: the bundle the set-up builds (no tsx in the process), or the sources. */
export function agentCommand(from: 'bundle' | 'source'): string[] {
  if (from === 'source') return [...NODE_ARGS, '--import', 'tsx', path.join(root, 'agent/cli.ts'), 'agent'];
  // BW_AGENT_BUNDLE: another build of the bundle (a bench comparing two), resolved from the checkout.
  const bundle = path.resolve(root, process.env.BW_AGENT_BUNDLE ?? 'dist/agent.mjs');
  if (!fs.existsSync(bundle)) throw new Error(`${bundle} is missing: run npm run build:agent (npm run setup does it)`);
  return [...NODE_ARGS, bundle, 'agent'];
}

export class LabAgents {
  private readonly procs: AgentProc[] = [];

  constructor(
    private readonly recipe: AgentRecipe,
    private readonly record: RunRecord,
    private readonly at: { net: Lab; serverUrl: string; node: { uuid: string; key: string }; dir: string },
  ) {}

  /** The agent started last, if any. */
  get latest(): AgentProc | undefined {
    return this.procs.at(-1);
  }

  /** Starts one more agent (spool and state directories are shared: a restart finds its predecessor's). */
  start(args: string[] = []): AgentProc {
    const r = this.recipe,
      { net, dir } = this.at;
    const p = spawnAgent(
      [
        ...agentCommand(r.from ?? 'bundle'),
        '--iface',
        net.victimIf,
        '--netns',
        net.victimNs,
        '--server',
        this.at.serverUrl,
        '--spool-dir',
        path.join(dir, 'spool'),
        '--state-dir',
        path.join(dir, 'state'),
        ...((r.polling ?? 'lab') === 'lab' ? LAB_POLLING : []),
        '--log-level',
        r.logLevel ?? 'debug',
        ...(r.autoMitigate ? ['--auto-mitigate'] : []),
        '--geo-database',
        LAB_GEO,
        ...(r.args ?? []),
        ...args,
      ],
      { ...process.env, BREAKWATER_NODE_UUID: this.at.node.uuid, BREAKWATER_API_KEY: this.at.node.key },
    );
    const copy = process.env.BW_AGENT_LOG ? (line: string) => console.error(`[agent] ${line}`) : undefined;
    if (r.onLine || copy)
      p.onLine = (line) => {
        r.onLine?.(line);
        copy?.(line);
      };
    if (p.child.pid) this.record.addAgent(p.child.pid);
    this.procs.push(p);
    return p;
  }

  /** SIGTERM to every agent still running (SIGKILL after 5 s). */
  async stopAll(): Promise<void> {
    await Promise.all(this.procs.map((p) => p.stop()));
  }
}

/** Waits until `agent`'s program is pinned and `open` can read it (whatever the log level lets through); fails early if the agent exits. */
export async function waitAttached<T>(agent: AgentProc, open: () => T, ms = 30_000): Promise<T> {
  const tail = () => agent.log.slice(-20).join('\n');
  const view = await until(
    () => {
      if (!agent.running()) throw new Error(`the agent exited before attaching; log:\n${tail()}`);
      try {
        return open();
      } catch {
        return undefined; /* not pinned yet */
      }
    },
    ms,
    50,
  );
  if (view === undefined) throw new Error(`the agent did not attach in ${ms} ms; log:\n${tail()}`);
  return view;
}
