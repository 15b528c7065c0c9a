// The push channel's hub: the agents' open streams (GET /api/v1/agent/events,
// Server-Sent Events) by node, and the notifications that make each stream
// send its node's config (server/node-config.ts, what GET /config answers)
// at once. Any server process may make the change: a trigger announces it
// on CONFIG_CHANNEL when it commits (migrations/005), and every process
// LISTENs (db.listen: PostgreSQL's LISTEN, or PGlite's own), so the process
// that holds the node's stream sends. Each event is the whole config, so a
// missed or merged notification loses nothing: the next event says all;
// marked nodes are built in batches (flush). A comment line every
// PUSH_PING_MS keeps idle connections open through proxies and finds dead ones.
import { PUSH_CONFIG_EVENT, PUSH_PING_MS } from '../contract/wire/push.ts';
import type { Db, Listener } from './db.ts';
import type { Logger } from './log.ts';
import { buildConfigs } from './node-config.ts';

export const CONFIG_CHANNEL = 'breakwater_node_config';
/** Streams one node may hold; a new one closes the oldest (an agent restarted before its old connection timed out). */
export const STREAMS_PER_NODE = 2;

export interface PushStream {
  /** Writes raw SSE text (nothing once closed). */
  write(text: string): void;
  close(): void;
}

interface Entry {
  workspaceId: number;
  streams: PushStream[];
}

/** Nodes whose configs one flush step builds together. */
const BATCH = 250;

const sseEvent = (event: string, data: unknown) => `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;

export class PushHub {
  private readonly nodes = new Map<number, Entry>();
  private readonly dirty = new Set<number>();
  private flushing = false;
  private listener: Listener | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly db: Db,
    private readonly log: Logger,
  ) {}

  start(): void {
    this.listener = this.db.listen(CONFIG_CHANNEL, {
      onPayload: (p) => this.onPayload(p),
      // Listening (again): whatever changed before may have been missed.
      onReset: () => {
        for (const id of this.nodes.keys()) this.refresh(id);
      },
    });
    this.timer = setInterval(() => this.ping(), PUSH_PING_MS);
    this.timer.unref();
  }

  /** Adds a node's stream and sends it the config at once; returns the function that removes it. */
  attach(nodeId: number, workspaceId: number, s: PushStream): () => void {
    const e = this.nodes.get(nodeId) ?? { workspaceId, streams: [] };
    this.nodes.set(nodeId, e);
    e.streams.push(s);
    while (e.streams.length > STREAMS_PER_NODE) e.streams.shift()!.close();
    this.refresh(nodeId);
    return () => {
      const cur = this.nodes.get(nodeId);
      if (!cur) return;
      cur.streams = cur.streams.filter((x) => x !== s);
      if (cur.streams.length === 0) this.nodes.delete(nodeId);
    };
  }

  private onPayload(p: string): void {
    if (p.startsWith('w')) {
      const ws = Number(p.slice(1));
      for (const [id, e] of this.nodes) if (e.workspaceId === ws) this.refresh(id);
    } else if (this.nodes.has(Number(p))) this.refresh(Number(p));
  }

  /** Marks the node's config for sending; the flush builds the marked ones in batches. */
  private refresh(nodeId: number): void {
    if (!this.nodes.has(nodeId)) return;
    this.dirty.add(nodeId);
    if (this.flushing) return;
    this.flushing = true;
    setImmediate(() => void this.flush());
  }

  /**
   * Builds and sends the marked configs, BATCH nodes in three statements at
   * a time, yielding between batches, so that a change to a workspace of
   * thousands of nodes neither floods the database with statements nor holds
   * the event loop (PGlite runs its queue without yielding) while the other
   * requests wait. A node marked again during its build is built again.
   */
  private async flush(): Promise<void> {
    try {
      while (this.dirty.size) {
        const batch: number[] = [];
        for (const id of this.dirty) {
          batch.push(id);
          this.dirty.delete(id);
          if (batch.length === BATCH) break;
        }
        try {
          const started = performance.now();
          const cfgs = await buildConfigs(this.db, batch);
          let sent = 0;
          for (const id of batch) {
            const e = this.nodes.get(id);
            if (!e) continue;
            const cfg = cfgs.get(id);
            if (!cfg) {
              for (const s of [...e.streams]) s.close(); // the node is gone
              continue;
            }
            const text = sseEvent(PUSH_CONFIG_EVENT, cfg);
            for (const s of e.streams) s.write(text);
            sent++;
          }
          if (sent) this.log.debug('push: configs sent', { nodes: sent, ms: Math.round(performance.now() - started) });
        } catch (err) {
          // The poll brings what was not sent.
          this.log.warn('push: configs not built', { nodes: batch.length, error: (err as Error).message });
        }
        await new Promise<void>((r) => setImmediate(r));
      }
    } finally {
      this.flushing = false;
    }
  }

  private ping(): void {
    for (const e of this.nodes.values()) for (const s of e.streams) s.write(': ping\n\n');
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    for (const e of this.nodes.values()) for (const s of e.streams) s.close();
    this.nodes.clear();
    await this.listener?.stop();
  }
}
