// What the response-policy tests do through the real server: the user API
// with the workspace's token, an agent's report followed by the policies'
// judging (srv.responder.idle()), the rules a policy made for an incident,
// and the policy events on its timeline.
import type { RunningServer } from '../../server/index.ts';
import { agentHeaders, bearer, request } from '../helpers/http.ts';

export function policyClient(srv: RunningServer, token: string) {
  const api = (method: string, path: string, json?: unknown) =>
    request(srv.url, method, `/api/v1${path}`, { headers: bearer(token), json });
  return {
    api,
    /** An agent request, answered and judged. */
    async agent(n: { uuid: string; key: string }, path: string, json: unknown) {
      const r = await request(srv.url, 'POST', `/api/v1/agent${path}`, { headers: agentHeaders(n), json });
      await srv.responder.idle();
      return r;
    },
    async rulesOf(incidentId: number): Promise<any[]> {
      return ((await api('GET', '/mitigations?limit=500')).body.rules as any[]).filter((r) => r.incident_id === incidentId);
    },
    async policyEvents(incidentId: number): Promise<any[]> {
      return (await api('GET', `/incidents/${incidentId}`)).body.timeline.filter((e: any) => e.kind === 'policy');
    },
  };
}
