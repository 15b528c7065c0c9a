// The Db of a real PostgreSQL (server/db.ts): a private pg pool, transactions
// on one pooled connection, and LISTEN on a connection of its own.
import pg from 'pg';
import { beginStatement, type Db, logged, type Queryable } from './db.ts';
import type { Logger } from './log.ts';
import { listener } from './sql/listen.ts';

// int8 (bigserial ids, counters) as JS numbers: every value we keep is far below 2^53.
pg.types.setTypeParser(20, (v) => Number(v));

export async function openPostgres(url: string, poolSize: number, log: Logger): Promise<Db> {
  const pool = new pg.Pool({ connectionString: url, max: poolSize });
  pool.on('error', (err) => log.error('database pool error', { error: err.message }));
  const on = (c: pg.Pool | pg.PoolClient): Queryable =>
    logged((text, values, name) => c.query(name ? { name, text, values } : { text, values }), log);

  const withSession = async <T>(fn: (s: Queryable) => Promise<T>): Promise<T> => {
    const client = await pool.connect();
    try {
      return await fn(on(client));
    } finally {
      client.release();
    }
  };

  return {
    kind: 'postgres',
    ...on(pool),
    withSession,
    withTransaction: (fn, o) =>
      withSession(async (s) => {
        await s.query(beginStatement(o));
        try {
          const result = await fn(s);
          await s.query('COMMIT');
          return result;
        } catch (err) {
          await s.query('ROLLBACK').catch(() => {});
          throw err;
        }
      }),
    listen: (channel, handlers) =>
      listener(() => new pg.Client({ ...pool.options, keepAlive: true, keepAliveInitialDelayMillis: 10_000 }), channel, handlers, log),
    close: () => pool.end(),
  };
}
