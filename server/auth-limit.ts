// Failed authentications, counted per client address: past `max` failures in
// a window, further failures from that address get 429 with Retry-After
// instead of 401, until the window ends. Credentials are still verified on
// every request (auth.ts), so valid ones pass whatever someone else sent from
// the same address: nobody is locked out by another's failures. IPv6 clients
// are counted by /64, the block one host normally holds.
import { formatAddress, maskBytes, parsePrefix } from '../contract/net/prefix.ts';
import { tooManyRequests } from './errors.ts';

export interface LimitOptions {
  /** Failures allowed per window and address. */
  max: number;
  windowMs: number;
}

const MAX_ADDRESSES = 100_000;

export class FailureLimiter {
  private readonly failures = new Map<string, { n: number; since: number }>();

  constructor(
    private readonly o: LimitOptions = { max: 20, windowMs: 60_000 },
    private readonly now = Date.now,
  ) {}

  /** The key of a client address: IPv4 (also IPv4-mapped) whole, IPv6 by its /64 in canonical text. */
  static keyOf(address: string | undefined): string {
    const a = (address ?? '').replace(/^::ffff:(?=\d+\.)/i, '');
    const p = parsePrefix(a);
    if (!p.ok) return a;
    return p.prefix.family === 4 ? p.prefix.address : `${formatAddress(maskBytes(p.prefix.bytes, 64))}/64`;
  }

  /** Milliseconds until the address may fail again; 0 when it is not limited. */
  blockedFor(address: string | undefined): number {
    const e = this.failures.get(FailureLimiter.keyOf(address));
    if (!e) return 0;
    const left = e.since + this.o.windowMs - this.now();
    if (left <= 0) {
      this.failures.delete(FailureLimiter.keyOf(address));
      return 0;
    }
    return e.n >= this.o.max ? left : 0;
  }

  fail(address: string | undefined): void {
    const k = FailureLimiter.keyOf(address);
    const t = this.now();
    const e = this.failures.get(k);
    if (!e || t - e.since >= this.o.windowMs) {
      if (this.failures.size >= MAX_ADDRESSES) this.prune(t);
      this.failures.set(k, { n: 1, since: t });
    } else {
      e.n++;
    }
  }

  /** The error for a limited address. */
  refusal(ms: number) {
    return tooManyRequests('too many failed authentications from this address', ms);
  }

  private prune(t: number): void {
    for (const [k, e] of this.failures) if (t - e.since >= this.o.windowMs) this.failures.delete(k);
    if (this.failures.size >= MAX_ADDRESSES) this.failures.clear();
  }
}
