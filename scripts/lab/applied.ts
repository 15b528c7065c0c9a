// When lab agents wrote rules into their kernel maps, from their own logs
// (bench:fleet, bench:agent-push): each logs 'command applied' right after
// the map update returned.
import type { AgentProc } from './agent-process.ts';
import { until } from './wait.ts';

/**
 * When `agent` had written every one of `sources` into its kernel map (op
 * 'add') or deleted them ('delete'): the time, on this process's
 * performance.now() clock, of its last 'command applied' log line for them
 * (it logs each right after the map update returned; its clock is this
 * machine's, to the millisecond); undefined while one is missing. Reading
 * fifty maps every few milliseconds instead would cost the two cores the
 * agents and the server share (one read walks the map's buckets, ~0.1 ms).
 */
export function appliedAt(agent: AgentProc, sources: readonly string[], op: 'add' | 'delete'): number | undefined {
  const last = new Map<string, number>();
  for (const line of agent.log) {
    if (!line.includes('"msg":"command applied"')) continue;
    const l = JSON.parse(line) as { t: string; command: string; rule?: { source?: { address?: string } } };
    const src = l.rule?.source?.address;
    if (src && sources.includes(src) && / -D /.test(l.command) === (op === 'delete')) last.set(src, Date.parse(l.t));
  }
  return last.size === sources.length ? Math.max(...last.values()) - performance.timeOrigin : undefined;
}

/** Waits until each agent applied `sources` (appliedAt); returns the times, undefined for those that did not within `ms`. */
export async function whenApplied(agents: AgentProc[], sources: readonly string[], op: 'add' | 'delete', ms: number) {
  const at = () => agents.map((a) => appliedAt(a, sources, op));
  await until(() => at().every((t) => t !== undefined), ms, 10);
  return at();
}
