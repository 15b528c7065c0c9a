/**
 * The request bodies the agent sends that are not samples (agent/rates.ts
 * builds those), typed by the contract (contract/wire/agent.ts) so that a
 * field the contract does not know, or of the wrong type, does not compile;
 * a unit test runs each through the server's schemas.
 */
import type { CommandAck, Heartbeat, IncidentFields, IncidentReport } from '../contract/wire/agent.ts';
import type { Outcome } from './rules.ts';

export function heartbeatBody(version: string, uptimeSeconds: number, os: string): Heartbeat {
  return { agent_version: version.slice(0, 100), uptime: Math.max(0, Math.floor(uptimeSeconds)), os: os.slice(0, 200) };
}

/** POST /incident: the detector's fields, and the incident's id once the server gave one. */
export function incidentBody(fields: IncidentFields, incidentId?: number): IncidentReport {
  return incidentId === undefined ? fields : { ...fields, incident_id: incidentId };
}

export const resolveBody = (incidentId: number) => ({ incident_id: incidentId });

/** POST /commands/:id/ack for an outcome of applyCommand. */
export function ackBody(out: Outcome): CommandAck {
  return out.status === 'applied' ? { status: 'applied' } : { status: 'failed', reason: out.reason.slice(0, 1000) };
}
