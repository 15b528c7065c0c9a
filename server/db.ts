// The one database module: it owns the pg pool (to DATABASE_URL, or to the
// embedded PGlite) and withTransaction(). Everything else sends plain,
// parameterised SQL through `Db`. Query logs carry the text and the duration,
// never the parameters.
import pg from 'pg';
import type { Logger } from './log.ts';
import { startEmbedded, EMBEDDED_MAX_CONNECTIONS, type Embedded } from './embedded.ts';

// int8 (bigserial ids, counters) as JS numbers: every value we keep is far below 2^53.
pg.types.setTypeParser(20, (v) => Number(v));

export type Queryable = pg.Pool | pg.PoolClient;

export interface Db {
  kind: 'embedded' | 'postgres';
  pool: pg.Pool;
  query<R extends pg.QueryResultRow = any>(text: string, params?: unknown[]): Promise<pg.QueryResult<R>>;
  withTransaction<T>(fn: (client: pg.PoolClient) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

export interface DbOptions {
  databaseUrl?: string;
  dataDir: string;
  poolSize: number;
  log: Logger;
}

export async function openDb(opts: DbOptions): Promise<Db> {
  let embedded: Embedded | undefined;
  let pool: pg.Pool;
  if (opts.databaseUrl) {
    pool = new pg.Pool({ connectionString: opts.databaseUrl, max: opts.poolSize });
  } else {
    embedded = await startEmbedded(opts.dataDir);
    pool = new pg.Pool({ ...embedded.connection, max: EMBEDDED_MAX_CONNECTIONS });
  }
  pool.on('error', (err) => opts.log.error('database pool error', { error: err.message }));
  const log = opts.log;

  const query = async (text: string, params?: unknown[], client: Queryable = pool) => {
    const start = performance.now();
    try {
      return await client.query(text, params);
    } finally {
      log.debug('query', { sql: text.replace(/\s+/g, ' ').trim().slice(0, 200), ms: +(performance.now() - start).toFixed(2) });
    }
  };

  return {
    kind: embedded ? 'embedded' : 'postgres',
    pool,
    query: (text, params) => query(text, params),
    async withTransaction(fn) {
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        const result = await fn(client);
        await client.query('COMMIT');
        return result;
      } catch (err) {
        await client.query('ROLLBACK').catch(() => {});
        throw err;
      } finally {
        client.release();
      }
    },
    async close() {
      await pool.end();
      await embedded?.close();
    },
  };
}
