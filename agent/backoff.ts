/**
 * The one retry policy for every network call: capped exponential delays with
 * full jitter, and a server's Retry-After (seconds or an HTTP date) honoured
 * as a floor, itself capped. Pure apart from the injected random source.
 */
export interface BackoffOptions {
  /** First delay, ms. */
  baseMs?: number;
  /** Largest delay, ms. */
  maxMs?: number;
  /** Jitter share: the delay is drawn from [(1 - jitter) x d, d]. */
  jitter?: number;
  random?: () => number;
}

export class Backoff {
  private attempt = 0;
  readonly baseMs: number;
  readonly maxMs: number;
  readonly jitter: number;
  private readonly random: () => number;

  constructor(o: BackoffOptions = {}) {
    this.baseMs = o.baseMs ?? 500;
    this.maxMs = o.maxMs ?? 60_000;
    this.jitter = Math.min(1, Math.max(0, o.jitter ?? 0.5));
    this.random = o.random ?? Math.random;
  }

  get failures(): number {
    return this.attempt;
  }

  /** Delay before the next try after a failure; retryAfterMs (from the server) is a floor. */
  next(retryAfterMs?: number | null): number {
    const exp = Math.min(this.maxMs, this.baseMs * 2 ** Math.min(this.attempt, 30));
    this.attempt++;
    const d = exp * (1 - this.jitter * this.random());
    const floor = retryAfterMs != null && retryAfterMs > 0 ? Math.min(retryAfterMs, this.maxMs * 5) : 0;
    return Math.round(Math.max(d, floor));
  }

  reset(): void {
    this.attempt = 0;
  }
}

/** Retry-After header value to ms from `nowMs`; null when absent or unreadable. */
export function parseRetryAfter(value: string | null | undefined, nowMs: number): number | null {
  if (!value) return null;
  const v = value.trim();
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  const t = Date.parse(v);
  return Number.isNaN(t) ? null : Math.max(0, t - nowMs);
}

/** Resolves after ms, or at once when signal aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

export interface RetryOptions {
  backoff: Backoff;
  signal?: AbortSignal;
  /** Errors for which another try makes sense (default: all). */
  retryable?: (e: unknown) => boolean;
  /** Retry-After of an error, ms. */
  retryAfter?: (e: unknown) => number | null;
  onRetry?: (e: unknown, delayMs: number) => void;
  /** Give up after this many tries (default: until aborted). */
  maxTries?: number;
}

/** Runs fn until it succeeds, a non-retryable error, maxTries, or abort (then throws the last error). */
export async function retry<T>(fn: () => Promise<T>, o: RetryOptions): Promise<T> {
  for (let tries = 1; ; tries++) {
    try {
      const v = await fn();
      o.backoff.reset();
      return v;
    } catch (e) {
      if (o.signal?.aborted || (o.retryable && !o.retryable(e)) || (o.maxTries !== undefined && tries >= o.maxTries)) throw e;
      const d = o.backoff.next(o.retryAfter?.(e) ?? null);
      o.onRetry?.(e, d);
      await sleep(d, o.signal);
      if (o.signal?.aborted) throw e;
    }
  }
}
