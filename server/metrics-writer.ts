// Group commit for per-second samples. Requests hand their samples to add()
// and wait; queued samples go to the database in one statement. A request is
// answered only after its samples are committed, so a 2xx means stored.
//
// When idle, a sample is written at once. Under load, statements start at
// most every `intervalMs` (and at most `parallel` at a time), so each carries
// the samples of many requests: every statement and commit costs PostgreSQL
// (and the pg client) far more than one row of it, and on a busy machine the
// CPU saved is worth more than the few milliseconds a sample waits.
import type { Db } from './db.ts';
import type { Logger } from './log.ts';
import { insertSamples, type Sample } from './sql/metrics.ts';

/** An insert slower than this is logged: every agent waiting on it waits as long. */
const SLOW_MS = 50;

interface Pending {
  samples: Sample[];
  resolve: (inserted: number) => void;
  reject: (err: Error) => void;
}

export interface WriterOptions {
  /** Concurrent insert statements (1 for the embedded database). */
  parallel: number;
  /** Least time between the starts of two statements, ms (0: whenever one is free). */
  intervalMs: number;
  /** Samples per statement at most; a full batch does not wait for the interval. */
  maxBatch: number;
}

export class MetricsWriter {
  private queue: Pending[] = [];
  private queued = 0;
  private running = 0;
  private lastStart = -Infinity;
  private timer: NodeJS.Timeout | undefined;
  private readonly opts: WriterOptions;

  constructor(
    private readonly db: Db,
    private readonly log: Logger,
    opts: Partial<WriterOptions> = {},
  ) {
    this.opts = { parallel: 2, intervalMs: 0, maxBatch: 20_000, ...opts };
  }

  add(samples: Sample[]): Promise<number> {
    return new Promise((resolve, reject) => {
      this.queue.push({ samples, resolve, reject });
      this.queued += samples.length;
      this.kick();
    });
  }

  private kick(): void {
    while (this.running < this.opts.parallel && this.queue.length > 0) {
      const wait = this.lastStart + this.opts.intervalMs - performance.now();
      if (wait > 0 && this.queued < this.opts.maxBatch) {
        this.timer ??= setTimeout(() => {
          this.timer = undefined;
          this.kick();
        }, Math.ceil(wait));
        return;
      }
      const batch: Pending[] = [];
      let n = 0;
      while (this.queue.length > 0 && n < this.opts.maxBatch) {
        const p = this.queue.shift()!;
        batch.push(p);
        n += p.samples.length;
      }
      this.queued -= n;
      this.running++;
      this.lastStart = performance.now();
      void this.flush(batch).finally(() => {
        this.running--;
        this.kick();
      });
    }
  }

  private async flush(batch: Pending[]): Promise<void> {
    const prepared = this.db.kind === 'postgres';
    const start = performance.now();
    try {
      const samples = batch.length === 1 ? batch[0]!.samples : batch.flatMap((p) => p.samples);
      await insertSamples(this.db, samples, prepared);
      const ms = performance.now() - start;
      // Agents wait for this commit: a slow one (a checkpoint, a slow disk) is worth a line.
      if (ms > SLOW_MS) this.log.warn('slow metrics insert', { ms: Math.round(ms), samples: samples.length, queued: this.queued });
      // Per-request counts are not needed by callers beyond success; report the request's own size.
      for (const p of batch) p.resolve(p.samples.length);
    } catch (err) {
      if (batch.length === 1) {
        batch[0]!.reject(err as Error);
        return;
      }
      // One bad request must not fail the others: retry each on its own.
      this.log.warn('batched metrics insert failed, retrying per request', { error: (err as Error).message, requests: batch.length });
      await Promise.all(batch.map((p) => insertSamples(this.db, p.samples, prepared).then(() => p.resolve(p.samples.length), p.reject)));
    }
  }

  /** Resolves when everything queued so far is written. */
  async drain(): Promise<void> {
    while (this.queue.length > 0 || this.running > 0) await new Promise((r) => setTimeout(r, 5));
  }
}
