// Group commit for per-second samples. Requests hand their samples to add()
// and wait; whenever no insert is running, everything queued so far goes to
// the database in one statement. Under load each statement carries the
// samples of many requests; when idle a sample is written at once. A request
// is answered only after its samples are committed, so a 2xx means stored.
import type { Db } from './db.ts';
import type { Logger } from './log.ts';
import { insertSamples, type Sample } from './sql/metrics.ts';

interface Pending {
  samples: Sample[];
  resolve: (inserted: number) => void;
  reject: (err: Error) => void;
}

export class MetricsWriter {
  private queue: Pending[] = [];
  private running = 0;

  constructor(
    private readonly db: Db,
    private readonly log: Logger,
    /** Concurrent insert statements (1 for the embedded database). */
    private readonly parallel = 2,
    private readonly maxBatch = 20_000,
  ) {}

  add(samples: Sample[]): Promise<number> {
    return new Promise((resolve, reject) => {
      this.queue.push({ samples, resolve, reject });
      this.kick();
    });
  }

  private kick(): void {
    while (this.running < this.parallel && this.queue.length > 0) {
      const batch: Pending[] = [];
      let n = 0;
      while (this.queue.length > 0 && n < this.maxBatch) {
        const p = this.queue.shift()!;
        batch.push(p);
        n += p.samples.length;
      }
      this.running++;
      void this.flush(batch).finally(() => {
        this.running--;
        this.kick();
      });
    }
  }

  private async flush(batch: Pending[]): Promise<void> {
    try {
      await insertSamples(this.db.pool, batch.flatMap((p) => p.samples));
      // Per-request counts are not needed by callers beyond success; report the request's own size.
      for (const p of batch) p.resolve(p.samples.length);
    } catch (err) {
      if (batch.length === 1) {
        batch[0]!.reject(err as Error);
        return;
      }
      // One bad request must not fail the others: retry each on its own.
      this.log.warn('batched metrics insert failed, retrying per request', { error: (err as Error).message, requests: batch.length });
      await Promise.all(batch.map((p) => insertSamples(this.db.pool, p.samples).then(() => p.resolve(p.samples.length), p.reject)));
    }
  }

  /** Resolves when everything queued so far is written. */
  async drain(): Promise<void> {
    while (this.queue.length > 0 || this.running > 0) await new Promise((r) => setTimeout(r, 5));
  }
}
