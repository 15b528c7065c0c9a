/**
 * The request bodies the agent sends that are not samples (agent/rates.ts
 * builds those), typed by the contract (contract/wire/agent.ts) so that a
 * field the contract does not know, or of the wrong type, does not compile;
 * a unit test runs each through the server's schemas.
 */
import type { CommandAck, CommandAcks, Heartbeat, IncidentFields, IncidentReport } from '../contract/wire/agent.ts';
import type { Outcome } from './rules.ts';

/** The first `max` UTF-16 units of s, never half a surrogate pair (the server refuses lone surrogates). */
export function cut(s: string, max: number): string {
  if (s.length <= max) return s;
  const last = s.charCodeAt(max - 1);
  return s.slice(0, last >= 0xd800 && last <= 0xdbff ? max - 1 : max);
}

/** What a heartbeat says of the kernel (the addon's config().killSwitch and listRules()). */
export interface HeartbeatKernel {
  killSwitch: boolean;
  rules: readonly { mode: 'drop' | 'log'; expired: boolean }[];
}

/** POST /heartbeat: SPEC's fields, and the kernel's state when it could be read (expired rules left out, as the kernel ignores them). */
export function heartbeatBody(version: string, uptimeSeconds: number, os: string, kernel?: HeartbeatKernel): Heartbeat {
  const body: Heartbeat = { agent_version: cut(version, 100), uptime: Math.max(0, Math.floor(uptimeSeconds)), os: cut(os, 200) };
  if (!kernel) return body;
  const live = kernel.rules.filter((r) => !r.expired);
  return {
    ...body,
    kill_switch: kernel.killSwitch,
    log_only_rules: live.filter((r) => r.mode === 'log').length,
    rules_in_kernel: live.length,
  };
}

/** POST /incident: the detector's fields, and the incident's id once the server gave one. */
export function incidentBody(fields: IncidentFields, incidentId?: number): IncidentReport {
  return incidentId === undefined ? fields : { ...fields, incident_id: incidentId };
}

export const resolveBody = (incidentId: number) => ({ incident_id: incidentId });

/** POST /commands/:id/ack for an outcome of applyCommand. */
export function ackBody(out: Outcome): CommandAck {
  return out.status === 'applied' ? { status: 'applied' } : { status: 'failed', reason: cut(out.reason, 1000) };
}

/** POST /commands/ack: the answers to a batch of commands, in the order applied. */
export function acksBody(done: readonly { cmd: { id: number }; out: Outcome }[]): CommandAcks {
  return { acks: done.map(({ cmd, out }) => ({ id: cmd.id, ...ackBody(out) })) };
}
