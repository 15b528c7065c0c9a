// The group-commit writer on a fake database (no database): an idle sample goes at
// once, samples arriving under load wait for the interval and share one
// statement, a full batch does not wait, and one bad request in a failed batch
// fails alone.
import test from 'ava';
import type { Db } from '../../server/db.ts';
import { silentLogger } from '../../server/log.ts';
import { MetricsWriter } from '../../server/metrics-writer.ts';
import type { Sample } from '../../server/sql/metrics.ts';

function fakeDb(opts: { ms?: number; failIfNode?: number } = {}) {
  const statements: { at: number; nodes: number[] }[] = [];
  const t0 = performance.now();
  const db = {
    kind: 'postgres',
    async query(_statement: unknown, values: unknown[][]) {
      const nodes = values[0] as number[];
      statements.push({ at: performance.now() - t0, nodes });
      await new Promise((r) => setTimeout(r, opts.ms ?? 2));
      if (opts.failIfNode !== undefined && nodes.includes(opts.failIfNode)) throw new Error('bad sample');
      return { rows: [{ inserted: nodes.length }] };
    },
  } as unknown as Db;
  return { db, statements };
}

const sample = (node: number): Sample => ({
  node_id: node,
  recorded_at: new Date(),
  pps: 1,
  bps: 1,
  tcp_pct: null,
  udp_pct: null,
  icmp_pct: null,
  conn_count: null,
  fragments_pps: null,
  dropped_pps: null,
});

test('idle: at once; under load: one statement per interval for everything queued', async (t) => {
  const { db, statements } = fakeDb();
  const w = new MetricsWriter(db, silentLogger, { parallel: 1, intervalMs: 200 });
  await w.add([sample(1)]);
  t.is(statements.length, 1);
  t.true(statements[0]!.at < 100, `first statement at ${statements[0]!.at} ms`);
  // Ten requests right after: they wait until 200 ms after the first statement started, then go together.
  await Promise.all(Array.from({ length: 10 }, (_, i) => w.add([sample(10 + i)])));
  t.is(statements.length, 2);
  t.is(statements[1]!.nodes.length, 10);
  t.true(statements[1]!.at >= 195, `second statement at ${statements[1]!.at} ms`);
});

test('a full batch does not wait for the interval', async (t) => {
  const { db, statements } = fakeDb();
  const w = new MetricsWriter(db, silentLogger, { parallel: 1, intervalMs: 10_000, maxBatch: 5 });
  await w.add([sample(1)]);
  await w.add([1, 2, 3, 4, 5].map(sample));
  t.is(statements.length, 2);
  t.true(statements[1]!.at < 1000);
});

test('one bad request in a failed batch fails alone', async (t) => {
  const { db } = fakeDb({ failIfNode: 666 });
  const w = new MetricsWriter(db, silentLogger, { parallel: 1, intervalMs: 30 });
  await w.add([sample(1)]); // the next ones queue behind the interval and share a statement
  const results = await Promise.allSettled([w.add([sample(2)]), w.add([sample(666)]), w.add([sample(3), sample(4)])]);
  t.deepEqual(
    results.map((r) => r.status),
    ['fulfilled', 'rejected', 'fulfilled'],
  );
  t.deepEqual(
    results.map((r) => (r.status === 'fulfilled' ? r.value : undefined)),
    [1, undefined, 2],
  );
  await w.drain();
});
