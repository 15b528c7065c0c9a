/**
 * The addresses no rule may drop (the server's, the host's, its gateways,
 * the allowlist: contract/commands protectedEntries), kept fresh off the
 * command path. The tick reads them again behind once they are REFRESH_MS
 * old; a batch of commands uses them as they are, and waits for a read only
 * when none is younger than STALE_MS (at start, or behind a stalled tick).
 * Before, each batch read them first: the host's view is six /proc files
 * in the agent's namespace, 0.15-0.4 ms, a fifth of the CPU an agent spends
 * on a pushed rule, paid by every agent of a fleet at once (bench:fleet).
 * The cost: an address the host gains is protected up to REFRESH_MS later.
 * Fails closed: with no read younger than STALE_MS, a batch is refused
 * (its commands come back with the next config) rather than applied
 * against an old or empty list.
 */
import type { ProtectedEntry } from '../contract/commands/index.ts';
import type { Logger } from './log.ts';

export const REFRESH_MS = 1_000;
export const STALE_MS = 2_000;

export class ProtectedSet {
  entries: readonly ProtectedEntry[] = [];
  private readAt = Number.NEGATIVE_INFINITY;
  private inFlight: Promise<void> | null = null;
  private failing: string | null = null;

  constructor(
    private readonly read: () => Promise<readonly ProtectedEntry[]>,
    private readonly log: Logger,
  ) {}

  /** For a batch of commands: the entries, read first when older than STALE_MS; throws when none could be read since. */
  async forBatch(now = performance.now()): Promise<readonly ProtectedEntry[]> {
    if (now - this.readAt >= STALE_MS) await this.refresh(now);
    if (now - this.readAt >= STALE_MS)
      throw new Error(`the protected addresses could not be read (${this.failing}): no rule is applied without them`);
    return this.entries;
  }

  /** On each tick: read again behind once REFRESH_MS old. */
  tick(now = performance.now()): void {
    if (now - this.readAt >= REFRESH_MS) void this.refresh(now);
  }

  /** One read at a time; a failed one keeps the entries before it, said once until a read succeeds again. */
  private refresh(now: number): Promise<void> {
    this.inFlight ??= this.read()
      .then((e) => {
        this.entries = e;
        this.readAt = now;
        if (this.failing) this.log.info('the protected addresses are read again', {});
        this.failing = null;
      })
      .catch((e: Error) => {
        if (!this.failing) this.log.warn('cannot read the protected addresses; keeping the last ones', { error: e.message });
        this.failing = e.message;
      })
      .finally(() => {
        this.inFlight = null;
      });
    return this.inFlight;
  }
}
