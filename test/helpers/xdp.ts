// Runs frames through a test instance of the XDP program and reports what
// moved: counter deltas (only those that changed) and histogram deltas.
import type { Breakwater, CounterName, Snapshot } from '../../native/index.ts';
import { Breakwater as BW } from '../../native/index.ts';
import type { Requirement } from './privileged.ts';

export interface Delta {
  retval: number;
  counters: Partial<Record<CounterName, number>>;
  ttl: Record<number, number>;
  len: Record<number, number>;
}

function diff(a: number[], b: number[]): Record<number, number> {
  const out: Record<number, number> = {};
  b.forEach((v, i) => {
    const d = v - (a[i] ?? 0);
    if (d) out[i] = d;
  });
  return out;
}

export function deltaOf(before: Snapshot, after: Snapshot): Omit<Delta, 'retval'> {
  const counters: Partial<Record<CounterName, number>> = {};
  for (const [k, v] of Object.entries(after.counters) as [CounterName, number][]) {
    const d = v - before.counters[k];
    if (d) counters[k] = d;
  }
  return { counters, ttl: diff(before.ttlHistogram, after.ttlHistogram), len: diff(before.lengthHistogram, after.lengthHistogram) };
}

export function run(bw: Breakwater, frame: Buffer, repeat = 1): Delta {
  const before = bw.snapshot(0);
  const { retval } = bw.testRun(frame, repeat);
  return { retval, ...deltaOf(before, bw.snapshot(0)) };
}

/** BPF_PROG_TEST_RUN works here: root, and a kernel that loads the program. */
export const canLoadXdp: Requirement = () => {
  try {
    BW.loadForTest().close();
    return null;
  } catch (e) {
    return `cannot load the XDP program: ${(e as Error).message}`;
  }
};
