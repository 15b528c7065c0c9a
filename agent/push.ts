/**
 * The push channel: one long-lived GET /api/v1/agent/events (Server-Sent
 * Events, server/push.ts) through which the node's config (what GET /config
 * answers: pending commands, thresholds, IOC patterns) arrives as soon as
 * the server has it, instead of at the next poll. Each event is the whole
 * config, so nothing is lost between connections: the first event of a new
 * one says all. Reconnects with the one backoff helper (a Retry-After
 * honoured); the server's comment every PUSH_PING_MS shows the connection
 * alive, and PUSH_IDLE_MS without a byte ends it (a NAT or firewall that dropped it
 * without a word). The config poll (agent/sync.ts) goes on beside it.
 */
import type { ConfigReply } from '../contract/wire/agent.ts';
import { PUSH_CONFIG_EVENT, PUSH_IDLE_MS, PUSH_PATH } from '../contract/wire/push.ts';
import { Backoff, sleep } from './backoff.ts';
import { type AgentClient, HttpError } from './http.ts';
import type { Logger } from './log.ts';
import { SseReader } from './sse.ts';

export class PushChannel {
  private stopped = false;
  private readonly abort = new AbortController();
  private running: Promise<void> | null = null;
  /** A stream is open and has shown the server's first bytes. */
  connected = false;
  stats = { connections: 0 };

  constructor(
    private readonly client: AgentClient,
    private readonly onConfig: (c: Partial<ConfigReply>) => Promise<void>,
    private readonly log: Logger,
    private readonly backoff = new Backoff({ baseMs: 1_000, maxMs: 30_000 }),
    private readonly idleMs = PUSH_IDLE_MS,
  ) {}

  start(): void {
    this.running ??= this.run();
  }

  private async run(): Promise<void> {
    let down = false;
    while (!this.stopped) {
      try {
        await this.connectOnce(() => {
          this.log.info('push channel open', { again: down || this.stats.connections > 1 });
          down = false;
          this.backoff.reset();
        });
        if (this.stopped) break;
        throw new HttpError(0, 'the server ended the push stream');
      } catch (e) {
        this.connected = false;
        if (this.stopped) break;
        const wait = this.backoff.next(e instanceof HttpError ? e.retryAfterMs : null);
        if (!down) this.log.warn('push channel lost: the config poll goes on', { error: (e as Error).message, retryInMs: wait });
        down = true;
        await sleep(wait, this.abort.signal);
      }
    }
    this.connected = false;
  }

  /** One connection, until it ends or fails. */
  private async connectOnce(onOpen: () => void): Promise<void> {
    const conn = new AbortController();
    const stop = () => conn.abort();
    this.abort.signal.addEventListener('abort', stop, { once: true });
    let idle: NodeJS.Timeout | undefined;
    const alive = () => {
      clearTimeout(idle);
      idle = setTimeout(() => conn.abort(new Error(`no byte from the server in ${this.idleMs} ms`)), this.idleMs);
      idle.unref();
    };
    try {
      alive();
      const res = await this.client.open(PUSH_PATH, conn.signal);
      if (!res.body) throw new HttpError(0, 'the push stream has no body');
      const reader = new SseReader();
      this.stats.connections++;
      let first = true;
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        alive();
        if (first) {
          first = false;
          this.connected = true;
          onOpen();
        }
        for (const ev of reader.push(chunk)) {
          if (ev.event !== PUSH_CONFIG_EVENT) continue;
          // Handed over, not awaited: its commands are in the kernel in order (agent/commands-run.ts)
          // and the next event is read while their acks are on their way. Awaited, a removal pushed
          // right after an add waited for the add's ack to be answered by a busy server: seconds on a
          // fleet (bench:fleet). A config that fails to apply is the poll's to bring again; the stream stays.
          const config = JSON.parse(ev.data) as Partial<ConfigReply>;
          void Promise.resolve()
            .then(() => this.onConfig(config))
            .catch((e: Error) => this.log.warn('pushed config not applied', { error: e.message }));
        }
      }
    } catch (e) {
      if (conn.signal.aborted && conn.signal.reason instanceof Error && !this.stopped) throw new HttpError(0, conn.signal.reason.message);
      throw e;
    } finally {
      clearTimeout(idle);
      this.abort.signal.removeEventListener('abort', stop);
      conn.abort();
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.abort.abort();
    await this.running;
  }
}
