// The embedded database: PGlite (PostgreSQL compiled to WebAssembly) persisted
// in a data directory and used in this process through its own API, as the
// Db of server/db.ts. PGlite is one PostgreSQL session that runs one statement
// at a time: statements queue, a transaction holds the session until it ends
// (others wait, none joins it), and a statement that fails fails alone, in
// its own request. (An earlier version served PGlite to `pg` over a socket;
// there one failing statement could make the socket server drop the shared
// connection, and requests of other nodes failed meanwhile.)
import fs from 'node:fs';
import path from 'node:path';
import { PGlite, type Transaction } from '@electric-sql/pglite';
import { LockBusy, lockDir } from '../lib/pid-lock.ts';
import { beginStatement, type Db, logged, type Queryable, type Result, type Row } from './db.ts';
import type { Logger } from './log.ts';

/** Types read as the pg driver reads them: int8 as a number (all our values are below 2^53), bytea as a Buffer. */
const parsers = {
  20: (v: string) => Number(v),
  17: (v: string) => Buffer.from(v.startsWith('\\x') ? v.slice(2) : v, 'hex'),
};

type Runner = Pick<PGlite | Transaction, 'query' | 'exec'>;
/** With parameters, one statement (extended protocol); without, any number (simple protocol), as pg does. */
const result = async (r: Runner, text: string, params?: unknown[]): Promise<Result<Row>> => {
  const out = params?.length ? await r.query(text, params) : (await r.exec(text)).at(-1);
  return { rows: (out?.rows ?? []) as Row[], rowCount: out ? out.affectedRows || out.rows.length : null };
};

export async function openEmbedded(dataDir: string, log: Logger): Promise<Db> {
  const dir = path.resolve(dataDir, 'pglite');
  fs.mkdirSync(dir, { recursive: true });
  const releaseLock = lockDataDir(path.resolve(dataDir));
  let pglite: PGlite;
  try {
    pglite = await PGlite.create({ dataDir: dir, parsers });
  } catch (err) {
    releaseLock();
    throw err;
  }
  const on = (r: Runner): Queryable => logged((text, params) => result(r, text, params), log);
  const self = on(pglite);
  return {
    kind: 'embedded',
    ...self,
    // One session already: its statements run in order (and so do everyone else's, between them).
    withSession: (fn) => fn(self),
    withTransaction: (fn, o) =>
      pglite.transaction(async (tx) => {
        if (o?.isolation || o?.readOnly) await tx.query(beginStatement(o).replace(/^BEGIN/, 'SET TRANSACTION'));
        return fn(on(tx));
      }),
    // PGlite's own LISTEN: notifications of this session's commits (the one process on this database).
    listen(channel, handlers) {
      const unlisten = pglite.listen(channel, (payload) => payload && handlers.onPayload(payload));
      unlisten.then(() => handlers.onReset()).catch((e: Error) => log.error('LISTEN failed', { channel, error: e.message }));
      return { stop: async () => (await unlisten.catch(() => null))?.() };
    },
    async close() {
      await pglite.close();
      releaseLock();
    },
  };
}

/**
 * PGlite has no lock of its own: two processes on one data directory would
 * corrupt it. lib/pid-lock.ts refuses the second one (LockBusy, one sentence)
 * and takes over a pid file left by a process that is gone, even when its PID
 * now belongs to another process.
 */
function lockDataDir(dataDir: string): () => void {
  try {
    return lockDir(dataDir);
  } catch (err) {
    if (!(err instanceof LockBusy)) throw err;
    const hint = err.pid === process.pid ? '' : ' (stop it first, or use the HTTP API)';
    throw new LockBusy(`data directory ${err.message}${hint}`, err.pid);
  }
}
