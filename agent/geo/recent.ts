/**
 * The last samples' times and countries, oldest first, in a fixed ring: what
 * the country count still needs to see one by one. An incident's onset lies
 * before the event that opens it, and its end before the event that resolves
 * it (the quiet hold), so samples are judged against both only once they are
 * older than either delay; until then they wait here.
 */
export class RecentSamples {
  private readonly at: Float64Array;
  private readonly cc: Uint8Array;
  private head = 0;
  size = 0;

  constructor(readonly capacity: number) {
    this.at = new Float64Array(capacity);
    this.cc = new Uint8Array(capacity);
  }

  /** Adds one; when full, the oldest goes to `evict` first. */
  push(atMs: number, cc: number, evict: (atMs: number, cc: number) => void): void {
    if (this.size === this.capacity) this.shift(evict);
    const i = (this.head + this.size++) % this.capacity;
    this.at[i] = atMs;
    this.cc[i] = cc;
  }

  /** Hands every sample older than `beforeMs` to `evict`, oldest first, and forgets it. */
  drop(beforeMs: number, evict: (atMs: number, cc: number) => void): void {
    while (this.size > 0 && this.at[this.head]! < beforeMs) this.shift(evict);
  }

  /** Every sample held, oldest first. */
  forEach(fn: (atMs: number, cc: number) => void): void {
    for (let k = 0; k < this.size; k++) {
      const i = (this.head + k) % this.capacity;
      fn(this.at[i]!, this.cc[i]!);
    }
  }

  private shift(evict: (atMs: number, cc: number) => void): void {
    evict(this.at[this.head]!, this.cc[this.head]!);
    this.head = (this.head + 1) % this.capacity;
    this.size--;
  }
}
