/**
 * The pre-attack ring: the most recent packet samples, oldest overwritten
 * first, so that a capture opened at an incident's onset starts with the
 * seconds before it. Fixed capacity; push is O(batch), no allocation.
 */
import type { PacketSample } from '../packets/types.ts';

export class SampleRing {
  private readonly slots: (PacketSample | undefined)[];
  private next = 0;
  private count = 0;

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError('ring capacity must be a positive integer');
    this.slots = new Array(capacity);
  }

  get size(): number {
    return this.count;
  }

  push(batch: readonly PacketSample[]): void {
    for (const s of batch) {
      this.slots[this.next] = s;
      this.next = (this.next + 1) % this.capacity;
    }
    this.count = Math.min(this.capacity, this.count + batch.length);
  }

  /** The samples held, oldest first. */
  toArray(): PacketSample[] {
    const start = (this.next - this.count + this.capacity) % this.capacity;
    return Array.from({ length: this.count }, (_, i) => this.slots[(start + i) % this.capacity]!);
  }
}
