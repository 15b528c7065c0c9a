// An incident through the real outbox, client and server (embedded
// database) when the agent and the server disagree about it: a restarted
// agent resumes its open incident (same server id, no second incident); the
// server resolved it meanwhile (the node was silent past its limit) while the
// attack goes on, so the next report opens a new incident and the key
// follows it; the server no longer knows the id (404), likewise; a resolve of
// an incident the server resolved already opens nothing.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import test from 'ava';
import { AgentClient } from '../../agent/http.ts';
import { silentLogger } from '../../agent/log.ts';
import { Outbox, type SpoolRecord } from '../../agent/outbox.ts';
import { Spool } from '../../agent/spool.ts';
import { IncidentIds } from '../../agent/state.ts';
import type { IncidentFields } from '../../contract/wire/agent.ts';
import { LabServer, userApi } from '../../scripts/lab/server.ts';
import { freshDataDir } from './_harness.ts';

const fields = (peak: number): IncidentFields => ({
  attack_family: 'udp_flood',
  severity: 'high',
  peak_pps: peak,
  spoofing_detected: true,
});

test('resumed, resolved by the server while the attack went on, unknown to it, resolved twice', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bw-incident-resume-'));
  const server = await LabServer.start({ port: 0, dataDir: await freshDataDir() });
  t.teardown(async () => {
    await server.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  const ws = await server.admin.createWorkspace('resume');
  const node = await server.admin.createNode(ws.id, 'edge', { ip: '198.18.62.1' });
  const client = new AgentClient({ server: server.url, nodeUuid: node.uuid, apiKey: node.key, timeoutMs: 2000 });
  const idsFile = path.join(dir, 'incidents.json');
  const incidents = async () =>
    ((await userApi(server.url, ws.token, 'GET', `/incidents?node_id=${node.id}&limit=100`)).body.incidents as any[])
      .map((i) => ({ id: i.id, status: i.status, peak_pps: i.peak_pps }))
      .sort((a, b) => a.id - b.id);
  /** One agent run: its outbox over the same state file, each record sent at once. */
  const agentRun = () => {
    const spool = new Spool<SpoolRecord>(path.join(dir, 'spool'), 1 << 20);
    const ids = new IncidentIds(idsFile);
    const outbox = new Outbox(spool, client, ids, silentLogger);
    const send = async (r: SpoolRecord) => {
      outbox.push(r);
      t.is(await outbox.sendHead(), 'sent');
      t.is(spool.length, 0, 'the record left the spool');
    };
    return { ids, send, close: () => spool.close() };
  };

  const first = agentRun();
  await first.send({ k: 'i', key: 'k1', type: 'opened', fields: fields(100_000) });
  const a = first.ids.get('k1')!;
  first.close();

  // Killed and started again during the attack: the opening of the resumed incident updates it.
  const second = agentRun();
  await second.send({ k: 'i', key: 'k1', type: 'opened', fields: fields(150_000) });
  t.is(second.ids.get('k1'), a, 'the same incident');
  t.deepEqual(await incidents(), [{ id: a, status: 'open', peak_pps: 150_000 }], 'one incident, updated by the resumed opening');

  // The server resolves it (as for a node silent past incidentSilenceMinutes); the attack goes on.
  await client.request('POST', '/incident/resolve', { incident_id: a });
  await second.send({ k: 'i', key: 'k1', type: 'updated', fields: fields(160_000) });
  const b = second.ids.get('k1')!;
  t.not(b, a, 'a new incident for the attack that went on');
  t.deepEqual(await incidents(), [
    { id: a, status: 'resolved', peak_pps: 150_000 },
    { id: b, status: 'open', peak_pps: 160_000 },
  ]);
  await second.send({ k: 'i', key: 'k1', type: 'resolved', fields: fields(160_000) });
  t.is((await incidents()).find((i) => i.id === b)?.status, 'resolved', 'the new incident resolves');

  // An id the server does not know (its database was replaced): a new incident.
  second.ids.set('k2', 999_999);
  await second.send({ k: 'i', key: 'k2', type: 'opened', fields: fields(70_000) });
  const c = second.ids.get('k2')!;
  t.not(c, 999_999);
  t.is((await incidents()).find((i) => i.id === c)?.status, 'open');
  // Resolved by the server first, then by the agent: nothing new is opened.
  await client.request('POST', '/incident/resolve', { incident_id: c });
  await second.send({ k: 'i', key: 'k2', type: 'resolved', fields: fields(70_000) });
  t.is(second.ids.get('k2'), c);
  const all = await incidents();
  t.is(all.length, 3, 'three incidents in all');
  t.true(all.every((i) => i.status === 'resolved'));
  second.close();
});
