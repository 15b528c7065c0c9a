import test from 'ava';
import { Backoff, parseRetryAfter, retry } from '../../../agent/backoff.ts';
import { HttpError } from '../../../agent/http.ts';

test('capped exponential growth without jitter', (t) => {
  const b = new Backoff({ baseMs: 100, maxMs: 1000, jitter: 0 });
  t.deepEqual(
    [1, 2, 3, 4, 5, 6].map(() => b.next()),
    [100, 200, 400, 800, 1000, 1000],
  );
  b.reset();
  t.is(b.next(), 100);
});

test('jitter draws from [(1 - jitter) x d, d]', (t) => {
  const lo = new Backoff({ baseMs: 1000, jitter: 0.5, random: () => 0.999999 });
  const hi = new Backoff({ baseMs: 1000, jitter: 0.5, random: () => 0 });
  t.is(lo.next(), 500);
  t.is(hi.next(), 1000);
  const r = new Backoff({ baseMs: 1000, jitter: 0.5 });
  for (let i = 0; i < 50; i++) {
    r.reset();
    const d = r.next();
    t.true(d >= 500 && d <= 1000, String(d));
  }
});

test('Retry-After is a floor, itself capped', (t) => {
  const b = new Backoff({ baseMs: 100, maxMs: 1000, jitter: 0 });
  t.is(b.next(3000), 3000);
  t.is(b.next(10), 200);
  t.is(b.next(10 ** 9), 5000, 'capped at 5 x maxMs');
  t.is(parseRetryAfter('7', 0), 7000);
  t.is(parseRetryAfter(new Date(60_000).toUTCString(), 0), 60_000);
  t.is(parseRetryAfter('soon', 0), null);
  t.is(parseRetryAfter(null, 0), null);
});

test('retry: retries retryable errors, stops on others, honours Retry-After', async (t) => {
  let calls = 0;
  const delays: number[] = [];
  const v = await retry(
    async () => {
      if (++calls < 3) throw new HttpError(503, 'down', calls === 1 ? 20 : null);
      return 'ok';
    },
    {
      backoff: new Backoff({ baseMs: 1, maxMs: 5, jitter: 0 }),
      retryable: (e) => e instanceof HttpError && e.retryable,
      retryAfter: (e) => (e as HttpError).retryAfterMs,
      onRetry: (_e, d) => delays.push(d),
    },
  );
  t.is(v, 'ok');
  t.is(calls, 3);
  t.deepEqual(delays, [20, 2]);
  let n = 0;
  await t.throwsAsync(
    retry(
      async () => {
        n++;
        throw new HttpError(400, 'bad');
      },
      { backoff: new Backoff({ baseMs: 1 }), retryable: (e) => (e as HttpError).retryable },
    ),
    { message: 'bad' },
  );
  t.is(n, 1, 'a 400 is not retried');
  t.true(new HttpError(0, 'network').retryable);
  t.true(new HttpError(429, 'slow down').retryable);
  t.false(new HttpError(422, 'invalid').retryable);
});
