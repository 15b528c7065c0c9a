// Captures from the consumer to the server through the real outbox, client
// and server (embedded database): part 1 is uploaded to the server's id for
// the incident the outbox opened; with the server down, the last part waits
// in the spool beside its record and goes, ahead of the resolve, once the
// server is back; a capture of an incident the server never took is dropped.
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import test from 'ava';
import { Backoff } from '../../agent/backoff.ts';
import { CaptureConsumer } from '../../agent/capture/consumer.ts';
import { inboxDir } from '../../agent/capture/inbox.ts';
import { Detector, type DetectorEvent } from '../../agent/detect/index.ts';
import { AgentClient } from '../../agent/http.ts';
import { silentLogger } from '../../agent/log.ts';
import { Outbox, type SpoolRecord } from '../../agent/outbox.ts';
import type { PacketSample } from '../../agent/packets/types.ts';
import { Spool } from '../../agent/spool.ts';
import { IncidentIds } from '../../agent/state.ts';
import { LabServer, userApi } from '../../scripts/lab/server.ts';
import { until } from '../../scripts/lab/wait.ts';
import { eth, ipv4, udp } from '../helpers/packets.ts';
import { normal, run } from '../unit/agent/traffic.ts';
import { freshDataDir } from './_harness.ts';

const frame = eth(ipv4(udp({ dport: 27015, payload: 32 }), { src: '198.19.7.7', dst: '198.18.61.1' }));
const samples = (n: number): PacketSample[] =>
  Array.from({ length: n }, () => ({
    monoNs: process.hrtime.bigint(),
    wallMs: Date.now(),
    atMs: performance.now(),
    length: frame.length,
    verdict: 'pass' as const,
    data: frame,
    head: null,
  }));

/** A real incident's events from the detector: opened, then resolved. */
function incident(): { opened: DetectorEvent; resolved: DetectorEvent } {
  const d = new Detector({ ppsThreshold: 10_000, bpsThreshold: 10_000_000_000 });
  run(d, 0, 30_000, () => normal(2_000));
  const flood = { pps: 100_000, proto: 'udp' as const, bytes: 120, ttl: 'random' as const, distinct: 5000, dstPort: 27015 };
  const evs = [...run(d, 30_000, 36_000, () => [...normal(2_000), flood]), ...run(d, 36_000, 60_000, () => normal(2_000))];
  return { opened: evs.find((e) => e.type === 'opened')!, resolved: evs.find((e) => e.type === 'resolved')! };
}

test('part 1 at the server; the last part spooled through an outage and sent ahead of the resolve; an unknown incident dropped', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bw-capture-outbox-'));
  const server = await LabServer.start({ port: 0, dataDir: await freshDataDir() });
  t.teardown(async () => {
    await server.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  const ws = await server.admin.createWorkspace('captures');
  const node = await server.admin.createNode(ws.id, 'edge', { ip: '198.18.61.1' });
  const spool = new Spool<SpoolRecord>(path.join(dir, 'spool'), 64 << 20);
  const client = new AgentClient({ server: server.url, nodeUuid: node.uuid, apiKey: node.key, timeoutMs: 2000 });
  const ids = new IncidentIds(path.join(dir, 'incidents.json'));
  const outbox = new Outbox(spool, client, ids, silentLogger, new Backoff({ baseMs: 50, maxMs: 200 }));
  const capture = new CaptureConsumer({
    dir: inboxDir(spool.dir),
    iface: 'bwv0',
    snapLen: 128,
    maxBytes: 1 << 20,
    log: silentLogger,
    counters: () => null,
    firstPartMs: 100,
  });
  const { opened, resolved } = incident();
  const user = (p: string) => userApi(server.url, ws.token, 'GET', p);
  const pcaps = async (id: number) =>
    ((await user(`/incidents/${id}`)).body?.pcaps ?? []) as { id: number; packets: number; size: number }[];

  outbox.start();
  capture.onSamples(samples(300));
  capture.onIncident(opened, 'kb-1');
  outbox.push({ k: 'i', key: 'kb-1', type: 'opened', fields: opened.incident });
  capture.onSamples(samples(200));
  await new Promise((r) => setTimeout(r, 150)); // part 1 closes
  outbox.push({ k: 'm', s: { pps: 1, bps: 8, recorded_at: new Date().toISOString() } });
  const id = (await until(() => ids.get('kb-1'), 5000))!;
  t.truthy(id, 'the incident reached the server');
  const first = await until(async () => (await pcaps(id))[0], 5000);
  t.like(first, { packets: 500 }, 'part 1: the ring and the samples after the opening');
  const down = await fetch(`${server.url}/api/v1/pcaps/${first!.id}`, { headers: { authorization: `Bearer ${ws.token}` } });
  t.is(down.status, 200);
  t.is((await down.arrayBuffer()).byteLength, first!.size);

  await server.stop();
  capture.onSamples(samples(40));
  capture.onIncident(resolved, 'kb-1');
  outbox.push({ k: 'i', key: 'kb-1', type: 'resolved', fields: resolved.incident });
  await new Promise((r) => setTimeout(r, 400)); // tries, refused
  const held = fs.readdirSync(spool.dir).filter((f) => f.endsWith('.pcapng'));
  t.is(held.length, 1, 'the last part waits in the spool');
  const sha = crypto
    .createHash('sha256')
    .update(fs.readFileSync(path.join(spool.dir, held[0]!)))
    .digest('hex');
  t.deepEqual(fs.readdirSync(inboxDir(spool.dir)), [], 'nothing left in the inbox');

  await server.restart();
  const both = await until(async () => ((await pcaps(id)).length === 2 ? pcaps(id) : undefined), 10_000);
  t.is(both?.[1]?.packets, 40);
  const inc = (await user(`/incidents/${id}`)).body;
  t.is(inc.status, 'resolved');
  const stored = inc.timeline
    .filter((e: { kind: string }) => e.kind === 'pcap' || e.kind === 'resolved')
    .map((e: { kind: string }) => e.kind);
  t.deepEqual(stored.slice(-2), ['pcap', 'resolved'], 'the last part went ahead of the resolve');
  const second = await fetch(`${server.url}/api/v1/pcaps/${both![1]!.id}`, { headers: { authorization: `Bearer ${ws.token}` } });
  t.is(
    crypto
      .createHash('sha256')
      .update(Buffer.from(await second.arrayBuffer()))
      .digest('hex'),
    sha,
    'byte for byte',
  );
  t.is(spool.length, 0);

  // A capture of an incident the server never took cannot be sent: dropped with its file.
  capture.onIncident({ ...opened }, 'kb-2');
  capture.onSamples(samples(5));
  capture.onIncident(resolved, 'kb-2');
  outbox.push({ k: 'm', s: { pps: 1, bps: 8, recorded_at: new Date().toISOString() } });
  await until(() => (spool.length === 0 ? true : undefined), 5000);
  t.is(outbox.sent.captures, 2);
  t.is(outbox.sent.dropped, 1);
  t.deepEqual(
    fs.readdirSync(spool.dir).filter((f) => f.endsWith('.pcapng')),
    [],
  );
  await outbox.stop(Date.now());
  capture.stop();
  spool.close();
});
