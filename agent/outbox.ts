/**
 * Delivery of spooled records to the server, in spool order: runs of metric
 * samples go as one batch (POST /metrics with an array, the server's
 * extension), incident events one by one (open, update with incident_id,
 * resolve through /incident/resolve). A record leaves the spool only once the
 * server took it; on a network error, 5xx, 429 or auth error the head is
 * retried with the backoff helper (honouring Retry-After), so nothing is lost
 * and order holds. A record the server rejects as invalid (other 4xx) can
 * never succeed: it is logged and dropped so it cannot block the queue.
 * Captures: finished files in the spool's inbox (agent/capture/inbox.ts) are
 * moved into the spool, each with a record, whenever a record is pushed and
 * before each send, so a capture written as an incident resolves goes ahead
 * of the resolve; each is uploaded (POST /pcap, multipart) to the server's
 * id for its incident, which the incident's own record, sent before it,
 * brought back.
 */
import fs from 'node:fs';
import { MAX_SAMPLES_PER_REQUEST, RECORDED_AT_PAST_MS } from '../contract/limits.ts';
import type { IncidentFields, IncidentReply } from '../contract/wire/agent.ts';
import { Backoff, sleep } from './backoff.ts';
import { incidentBody, resolveBody } from './bodies.ts';
import { inboxDir, readyCaptures } from './capture/inbox.ts';
import type { DetectorEventType } from './detect/index.ts';
import { type AgentClient, HttpError } from './http.ts';
import type { Logger } from './log.ts';
import type { MetricSample } from './rates.ts';
import type { Spool, SpoolEntry } from './spool.ts';
import type { IncidentIds } from './state.ts';

export type SpoolRecord =
  | { k: 'm'; s: MetricSample }
  | { k: 'i'; key: string; type: DetectorEventType; fields: IncidentFields }
  /** A capture file the spool holds beside the record (Spool.attachment). */
  | { k: 'p'; key: string; part: number };

/** An upload may take this long, plus a second per MB (a 50 MB capture over a slow link). */
const UPLOAD_TIMEOUT_MS = 30_000;

export class Outbox {
  private wake: (() => void) | null = null;
  private stopped = false;
  private readonly abort = new AbortController();
  private loop: Promise<void> | null = null;
  sent = { samples: 0, incidents: 0, captures: 0, dropped: 0 };
  /** Called once the server took an incident event (the agent holds its other requests back for an opening). */
  onIncidentSent: ((type: DetectorEventType, key: string) => void) | null = null;
  private readonly inbox: string;

  constructor(
    private readonly spool: Spool<SpoolRecord>,
    private readonly client: AgentClient,
    private readonly ids: IncidentIds,
    private readonly log: Logger,
    private readonly backoff = new Backoff({ baseMs: 500, maxMs: 30_000 }),
  ) {
    this.inbox = inboxDir(spool.dir);
  }

  /** Spools a record (after the captures finished so far) and wakes the sender. */
  push(record: SpoolRecord): void {
    this.adoptCaptures();
    this.spool.append(record);
    this.wake?.();
  }

  /** Moves the inbox's finished capture files into the spool, oldest first. */
  private adoptCaptures(): void {
    for (const c of readyCaptures(this.inbox)) {
      try {
        this.spool.append({ k: 'p', key: c.key, part: c.part }, c.file);
      } catch (e) {
        this.log.warn('cannot spool a capture file', { file: c.file, error: (e as Error).message });
      }
    }
  }

  start(): void {
    this.loop ??= this.run();
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      const ok = await this.sendHead();
      if (this.stopped) break;
      if (ok === 'empty') {
        await new Promise<void>((resolve) => (this.wake = resolve));
        this.wake = null;
      } else if (ok === 'retry') {
        await sleep(this.backoff.next(this.lastRetryAfter), this.abort.signal);
      }
    }
  }

  private lastRetryAfter: number | null = null;

  /** Sends the head of the spool once. */
  async sendHead(): Promise<'empty' | 'sent' | 'retry'> {
    this.adoptCaptures();
    const head = this.spool.peek(MAX_SAMPLES_PER_REQUEST);
    const first = head[0];
    if (!first) return 'empty';
    let run: SpoolEntry<SpoolRecord>[] = [first];
    if (first.record.k === 'm') {
      const stop = head.findIndex((e) => e.record.k !== 'm');
      run = stop < 0 ? head : head.slice(0, stop);
    }
    try {
      if (first.record.k === 'm') {
        const samples = this.onServerClock(run.map((e) => (e.record as { s: MetricSample }).s));
        if (samples.length) await this.client.request('POST', '/metrics', samples);
        this.sent.samples += samples.length;
        this.sent.dropped += run.length - samples.length;
      } else if (first.record.k === 'p') {
        await this.sendCapture(first.seq, first.record);
        this.sent.captures++;
      } else {
        await this.sendIncident(first.record);
        this.sent.incidents++;
        this.onIncidentSent?.(first.record.type, first.record.key);
      }
      this.backoff.reset();
      for (const e of run) this.spool.remove(e.seq);
      return 'sent';
    } catch (e) {
      const err = e instanceof HttpError ? e : new HttpError(0, (e as Error).message);
      if (err.retryable) {
        this.lastRetryAfter = err.retryAfterMs;
        if (this.backoff.failures === 0 || this.backoff.failures % 10 === 0)
          this.log.warn('server unreachable, spooling', { error: err.message, spooled: this.spool.length });
        return 'retry';
      }
      this.log.error('server refused a spooled record; dropped', { error: err.message, kind: first.record.k });
      for (const x of run) this.spool.remove(x.seq);
      this.sent.dropped += run.length;
      return 'sent';
    }
  }

  /**
   * Samples as the server's clock would have dated them (when this host's is
   * off by more than CLOCK_SKEW_MS), without those older than the server
   * keeps (they would be refused with the rest of their batch).
   */
  private onServerClock(samples: MetricSample[]): MetricSample[] {
    const offset = this.client.clockOffsetMs;
    if (offset !== this.lastOffset) {
      this.lastOffset = offset;
      if (offset)
        this.log.warn("this host's clock is off the server's: sample times are corrected", { offsetSeconds: Math.round(offset / 1000) });
    }
    const oldest = Date.now() + offset - RECORDED_AT_PAST_MS + 3600_000;
    const out: MetricSample[] = [];
    for (const s of samples) {
      const t = s.recorded_at === undefined ? Date.now() : Date.parse(s.recorded_at as string) + offset;
      if (t >= oldest) out.push(offset ? { ...s, recorded_at: new Date(t).toISOString() } : s);
    }
    if (out.length < samples.length)
      this.log.warn('samples older than the server keeps were dropped', { dropped: samples.length - out.length });
    return out;
  }

  private lastOffset = 0;

  /**
   * An incident event. A key the server already numbered (an update, or an
   * incident a restarted agent resumed, agent/resume.ts) posts with its id;
   * if the server has resolved that incident meanwhile (409: the node was
   * silent past its limit) or no longer knows it (404), the attack of an
   * `opened` or `updated` record is still going on, so it opens a new
   * incident and the key follows it; a `resolved` record has nothing left to
   * say to a lost incident.
   */
  private async sendIncident(r: Extract<SpoolRecord, { k: 'i' }>): Promise<void> {
    let id = this.ids.get(r.key);
    if (id !== undefined) {
      try {
        await this.client.request('POST', '/incident', incidentBody(r.fields, id));
      } catch (e) {
        if (!(e instanceof HttpError && (e.status === 409 || e.status === 404))) throw e;
        if (r.type === 'resolved') {
          if (e.status === 404) this.log.warn('the server no longer knows the incident this agent resolves', { incident_id: id });
          else await this.resolve(id);
          return;
        }
        this.log.warn('the server closed this incident while the attack went on: a new one is opened', {
          incident_id: id,
          status: e.status,
        });
        id = undefined;
      }
    }
    if (id === undefined) {
      const res = await this.client.request<IncidentReply>('POST', '/incident', incidentBody(r.fields));
      id = res.incident_id;
      this.ids.set(r.key, id);
    }
    if (r.type === 'resolved') await this.resolve(id);
  }

  private async resolve(id: number): Promise<void> {
    try {
      await this.client.request('POST', '/incident/resolve', resolveBody(id));
    } catch (e) {
      if (!(e instanceof HttpError && e.status === 409)) throw e;
    }
  }

  private async sendCapture(seq: number, r: Extract<SpoolRecord, { k: 'p' }>): Promise<void> {
    const id = this.ids.get(r.key);
    const file = this.spool.attachment(seq);
    // Neither can change by waiting: refused like a bad record, and dropped.
    if (id === undefined) throw new HttpError(404, `capture ${r.key}.${r.part}: the server never took its incident`);
    if (!file || !fs.existsSync(file)) throw new HttpError(404, `capture ${r.key}.${r.part}: its file is gone from the spool`);
    const blob = await fs.openAsBlob(file, { type: 'application/octet-stream' });
    const form = new FormData();
    form.set('incident_id', String(id));
    form.set('file', blob, `incident-${id}-part-${r.part}.pcapng`);
    await this.client.request('POST', '/pcap', form, { timeoutMs: UPLOAD_TIMEOUT_MS + Math.ceil(blob.size / 1000) });
  }

  /** Sends what it can before `deadlineMs` (one try per head, no backoff), then stops the loop. */
  async stop(deadlineMs: number): Promise<void> {
    this.stopped = true;
    this.abort.abort();
    this.wake?.();
    await this.loop;
    while (Date.now() < deadlineMs) {
      const r = await Promise.race([this.sendHead(), sleep(Math.max(0, deadlineMs - Date.now())).then(() => 'retry' as const)]);
      if (r !== 'sent') break;
    }
  }
}
