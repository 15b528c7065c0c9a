// The outbox honours a server's 429 and its Retry-After: the samples stay in
// the spool, and the next try waits at least as long as the server asked,
// though the backoff alone would try again at once.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import test from 'ava';
import { Backoff } from '../../../agent/backoff.ts';
import { type AgentClient, HttpError } from '../../../agent/http.ts';
import { createLogger } from '../../../agent/log.ts';
import { Outbox, type SpoolRecord } from '../../../agent/outbox.ts';
import { Spool } from '../../../agent/spool.ts';
import { IncidentIds } from '../../../agent/state.ts';

test('429 with Retry-After: nothing is lost, and the next try waits for it', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bw-outbox-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const spool = new Spool<SpoolRecord>(dir, 1 << 20);
  const calls: { at: number; samples: number }[] = [];
  const client = {
    clockOffsetMs: 0,
    async request(_m: string, _p: string, body: unknown[]) {
      calls.push({ at: performance.now(), samples: body.length });
      if (calls.length === 1) throw new HttpError(429, 'POST /metrics: 429 this node sends more than its share', 400);
      return { ok: true, accepted: body.length };
    },
  } as unknown as AgentClient;
  const out = new Outbox(spool, client, new IncidentIds(null), createLogger('error'), new Backoff({ baseMs: 5, maxMs: 1000 }));
  for (let i = 0; i < 3; i++) out.push({ k: 'm', s: { pps: i, bps: i, recorded_at: new Date().toISOString() } });
  out.start();
  while (calls.length < 2) await new Promise((r) => setTimeout(r, 20));
  await out.stop(Date.now());
  const gap = calls[1]!.at - calls[0]!.at;
  t.true(gap >= 390, `the second try came ${gap.toFixed(0)} ms after the 429 (Retry-After 400 ms; the backoff alone: 5 ms)`);
  t.deepEqual(
    calls.map((c) => c.samples),
    [3, 3],
    'the same three samples, kept in the spool meanwhile',
  );
  t.is(spool.length, 0);
  t.is(out.sent.dropped, 0);
  spool.close();
});

test("a host clock off the server's: sample times are corrected, samples older than the server keeps are left out", async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bw-outbox-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const spool = new Spool<SpoolRecord>(dir, 1 << 20);
  const sent: { recorded_at?: string }[][] = [];
  const client = {
    clockOffsetMs: -10 * 60_000,
    async request(_m: string, _p: string, body: { recorded_at?: string }[]) {
      sent.push(body);
      return {};
    },
  } as unknown as AgentClient;
  const out = new Outbox(spool, client, new IncidentIds(null), createLogger('error'));
  const now = Date.now();
  out.push({ k: 'm', s: { pps: 1, bps: 1, recorded_at: new Date(now).toISOString() } });
  out.push({ k: 'm', s: { pps: 2, bps: 2, recorded_at: new Date(now - 8 * 86_400_000).toISOString() } });
  t.is(await out.sendHead(), 'sent');
  t.is(sent.length, 1);
  t.is(sent[0]!.length, 1, 'the 8-day-old sample is left out');
  t.is(Date.parse(sent[0]![0]!.recorded_at!), now - 10 * 60_000, 'dated on the server clock');
  t.deepEqual(out.sent, { samples: 1, incidents: 0, captures: 0, dropped: 1 });
  t.is(spool.length, 0);
  spool.close();
});
