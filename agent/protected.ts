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
 */
import type { ProtectedEntry } from '../contract/commands/index.ts';
import type { Logger } from './log.ts';

export const REFRESH_MS = 1_000;
export const STALE_MS = 2_000;

export class ProtectedSet {
  entries: readonly ProtectedEntry[] = [];
  private readAt = Number.NEGATIVE_INFINITY;
  private inFlight: Promise<void> | null = null;

  constructor(
    private readonly read: () => Promise<readonly ProtectedEntry[]>,
    private readonly log: Logger,
  ) {}

  /** For a batch of commands: the entries, read first only when older than STALE_MS. */
  async forBatch(now = performance.now()): Promise<readonly ProtectedEntry[]> {
    if (now - this.readAt >= STALE_MS) await this.refresh(now);
    return this.entries;
  }

  /** On each tick: read again behind once REFRESH_MS old. */
  tick(now = performance.now()): void {
    if (now - this.readAt >= REFRESH_MS) void this.refresh(now);
  }

  /** One read at a time; a failed one keeps the entries before it (and is tried again on the next tick). */
  private refresh(now: number): Promise<void> {
    this.inFlight ??= this.read()
      .then((e) => {
        this.entries = e;
        this.readAt = now;
      })
      .catch((e: Error) => this.log.warn('cannot read the protected addresses; keeping the last ones', { error: e.message }))
      .finally(() => {
        this.inFlight = null;
      });
    return this.inFlight;
  }
}
