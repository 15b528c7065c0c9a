// Per-node fair share of metrics ingest: a token bucket of samples per node.
// A node may send `perSecond` samples a second, sustained, and a burst of one
// full batch (MAX_SAMPLES_PER_REQUEST); past that its requests get 429 with
// Retry-After (when the bucket will hold the request), which the agent's
// outbox honours, so an agent draining a long outage's spool, or a greedy
// client, cannot slow every other node's ingest. Kept per server process.
import { MAX_SAMPLES_PER_REQUEST } from '../contract/limits.ts';
import { tooManyRequests } from './errors.ts';

const MAX_NODES = 200_000;

export class FairShare {
  private readonly buckets = new Map<number, { tokens: number; at: number }>();
  private readonly burst: number;

  constructor(
    private readonly perSecond: number,
    private readonly now = () => performance.now(),
  ) {
    this.burst = Math.max(MAX_SAMPLES_PER_REQUEST, perSecond);
  }

  /** Before the body is read: throws 429 when the node's share is spent (not even one sample left). */
  check(nodeId: number): void {
    this.take(nodeId, 1, false);
  }

  /** Takes n samples from the node's share, or throws 429 with the wait. perSecond 0: no limit. */
  take(nodeId: number, n: number, spend = true): void {
    if (this.perSecond <= 0) return;
    const t = this.now();
    let b = this.buckets.get(nodeId);
    if (!b) {
      if (this.buckets.size >= MAX_NODES) this.prune(t);
      b = { tokens: this.burst, at: t };
      this.buckets.set(nodeId, b);
    }
    b.tokens = Math.min(this.burst, b.tokens + ((t - b.at) / 1000) * this.perSecond);
    b.at = t;
    if (b.tokens >= n) {
      if (spend) b.tokens -= n;
      return;
    }
    const waitMs = ((Math.min(n, this.burst) - b.tokens) / this.perSecond) * 1000;
    throw tooManyRequests(`this node sends more than its share (${this.perSecond} samples a second, ${this.burst} at once)`, waitMs);
  }

  private prune(t: number): void {
    for (const [id, b] of this.buckets) if (b.tokens + ((t - b.at) / 1000) * this.perSecond >= this.burst) this.buckets.delete(id);
    if (this.buckets.size >= MAX_NODES) this.buckets.clear();
  }
}
