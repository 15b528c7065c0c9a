/**
 * A periodic task as a setTimeout chain scheduled from the wall clock: each
 * run is planned for the next multiple of the period after the previous slot,
 * so delays never accumulate (no drift); the next run is planned only after
 * the current one finished (no overlap); slots an overlong run missed are
 * skipped, not queued.
 */
export interface Ticker {
  stop(): Promise<void>;
  /** Runs missed: slots skipped because a run overran. */
  readonly skipped: number;
}

export function nextSlot(nowMs: number, periodMs: number, lastSlotMs: number | null): number {
  let slot = lastSlotMs === null ? Math.ceil(nowMs / periodMs) * periodMs : lastSlotMs + periodMs;
  if (slot <= nowMs) slot = (Math.floor(nowMs / periodMs) + 1) * periodMs; // overran: skip to the next free slot
  return slot;
}

export function startTicker(
  periodMs: number,
  fn: (slotMs: number) => void | Promise<void>,
  onError: (e: unknown) => void,
  now: () => number = Date.now,
): Ticker {
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  let running: Promise<void> | undefined;
  let last: number | null = null;
  let skipped = 0;
  const plan = () => {
    if (stopped) return;
    const t = now();
    const slot = nextSlot(t, periodMs, last);
    if (last !== null) skipped += Math.max(0, Math.round((slot - last) / periodMs) - 1);
    last = slot;
    timer = setTimeout(() => {
      running = (async () => {
        try {
          await fn(slot);
        } catch (e) {
          onError(e);
        }
      })().finally(() => {
        running = undefined;
        plan();
      });
    }, slot - t);
  };
  plan();
  return {
    get skipped() {
      return skipped;
    },
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}
