/**
 * The agent's conversations with the server besides the spooled records:
 * a periodic loop with an interval that may change (config: 60 s calm, 10 s
 * during an attack), that can be kicked to run at once (attack onset), and
 * whose failures wait on the shared backoff policy instead of the interval.
 */
import { Backoff, sleep } from './backoff.ts';
import { HttpError } from './http.ts';

export class Loop {
  private stopped = false;
  private readonly abort = new AbortController();
  private kicked: AbortController = new AbortController();
  private running: Promise<void> | null = null;

  constructor(
    private readonly fn: () => Promise<void>,
    private readonly intervalMs: () => number,
    private readonly onError: (e: unknown, retryInMs: number) => void,
    private readonly backoff = new Backoff({ baseMs: 1_000, maxMs: 60_000 }),
  ) {}

  start(): void {
    this.running ??= this.run();
  }

  /** Runs at once (or right after the run in progress). */
  kick(): void {
    this.kicked.abort();
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      this.kicked = new AbortController();
      let wait: number;
      try {
        await this.fn();
        this.backoff.reset();
        wait = this.intervalMs();
      } catch (e) {
        wait = Math.min(this.backoff.next(e instanceof HttpError ? e.retryAfterMs : null), Math.max(this.intervalMs(), 1_000) * 5);
        this.onError(e, wait);
      }
      if (this.stopped) break;
      await sleep(wait, AbortSignal.any([this.abort.signal, this.kicked.signal]));
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.abort.abort();
    await this.running;
  }
}
