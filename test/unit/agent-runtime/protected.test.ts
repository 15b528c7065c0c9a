// The protected addresses kept fresh off the command path (agent/protected.ts):
// a batch reads them only when none is younger than STALE_MS, the tick reads
// them again behind once REFRESH_MS old, one read at a time, and a failed
// read keeps the entries before it.
import test from 'ava';
import { ProtectedSet, REFRESH_MS, STALE_MS } from '../../../agent/protected.ts';
import type { ProtectedEntry } from '../../../contract/commands/index.ts';

const entry = (n: number) => ({ n }) as unknown as ProtectedEntry;

function set(reads: (() => Promise<ProtectedEntry[]>)[]) {
  const warned: string[] = [];
  const log = { debug() {}, info() {}, warn: (m: string) => warned.push(m), error() {} } as never;
  let calls = 0;
  const s = new ProtectedSet(() => {
    const r = reads[Math.min(calls, reads.length - 1)]!;
    calls++;
    return r();
  }, log);
  return { s, calls: () => calls, warned };
}

test('a batch reads them at first, then uses them as they are until STALE_MS', async (t) => {
  let n = 0;
  const { s, calls } = set([async () => [entry(++n)]]);
  t.deepEqual(await s.forBatch(0), [entry(1)]);
  t.deepEqual(await s.forBatch(STALE_MS - 1), [entry(1)]);
  t.is(calls(), 1, 'no read while they are younger than STALE_MS');
  t.deepEqual(await s.forBatch(STALE_MS), [entry(2)], 'read first once stale');
});

test('the tick reads them again behind once REFRESH_MS old, one read at a time', async (t) => {
  let release: () => void = () => {};
  let n = 0;
  const { s, calls } = set([
    async () => [entry(++n)],
    () =>
      new Promise((r) => {
        release = () => r([entry(++n)]);
      }),
  ]);
  await s.forBatch(0);
  s.tick(REFRESH_MS - 1);
  t.is(calls(), 1, 'not before REFRESH_MS');
  s.tick(REFRESH_MS);
  s.tick(REFRESH_MS + 100);
  t.is(calls(), 2, 'one read in flight at most');
  t.deepEqual(await s.forBatch(REFRESH_MS + 200), [entry(1)], 'a batch does not wait for the read behind');
  release();
  await new Promise((r) => setImmediate(r));
  t.deepEqual(s.entries, [entry(2)]);
});

test('a failed read keeps the entries before it, said once, and is tried again; a batch past STALE_MS is refused', async (t) => {
  const boom = async (): Promise<ProtectedEntry[]> => {
    throw new Error('no /proc');
  };
  const { s, calls, warned } = set([async () => [entry(1)], boom, boom, async () => [entry(4)]]);
  await s.forBatch(0);
  s.tick(REFRESH_MS);
  await new Promise((r) => setImmediate(r));
  t.deepEqual(s.entries, [entry(1)], 'kept');
  t.deepEqual(await s.forBatch(REFRESH_MS + 1), [entry(1)], 'still younger than STALE_MS: used');
  await t.throwsAsync(s.forBatch(STALE_MS), { message: /could not be read \(no \/proc\)/ }, 'fails closed');
  t.deepEqual(warned, ['cannot read the protected addresses; keeping the last ones'], 'said once for the streak');
  s.tick(STALE_MS + 1);
  await new Promise((r) => setImmediate(r));
  t.is(calls(), 4, 'the next tick tries again: a failed read does not count as fresh');
  t.deepEqual(await s.forBatch(STALE_MS + 2), [entry(4)]);
});

test('with no read ever made, a batch is refused, not applied against an empty list', async (t) => {
  const { s } = set([
    async () => {
      throw new Error('bad entry');
    },
  ]);
  await t.throwsAsync(s.forBatch(0), { message: /could not be read/ });
  t.deepEqual(s.entries, []);
});
