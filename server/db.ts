// The one database interface. Everything else sends plain, parameterised SQL
// (written in server/sql) through `Queryable`: the Db itself, a session
// (withSession) or a transaction (withTransaction); the pool or the embedded
// database behind it stays private to db-postgres.ts and embedded.ts. Every
// statement is logged with its text and duration, never its parameters.

import { openPostgres } from './db-postgres.ts';
import { openEmbedded } from './embedded.ts';
import type { Logger } from './log.ts';

/** A statement as text, or (for a named prepared statement, PostgreSQL only) a name and text. */
export type Statement = string | { name: string; text: string };

export interface Result<R> {
  rows: R[];
  /** Rows returned, or changed by INSERT, UPDATE and DELETE. */
  rowCount: number | null;
}

/**
 * A row as the driver gives it. Each server/sql function states the shape of
 * its rows with query<T>(); where it does not, columns are read as the SQL
 * beside them says.
 */
// biome-ignore lint/suspicious/noExplicitAny: rows are shaped by the SQL text, which the type system cannot see
export type Row = Record<string, any>;

export interface Queryable {
  // biome-ignore lint/suspicious/noExplicitAny: an untyped query's rows are read as its SQL says (tests, one-off reads)
  query<R extends Row = any>(statement: Statement, params?: unknown[]): Promise<Result<R>>;
}

export interface TransactionOptions {
  isolation?: 'read committed' | 'repeatable read' | 'serializable';
  readOnly?: boolean;
}

export interface Listener {
  /** Stops listening and waits for the connection to close. */
  stop(): Promise<void>;
}

export interface Db extends Queryable {
  kind: 'embedded' | 'postgres';
  /** Statements on one connection, in order (session-level locks, several transactions). */
  withSession<T>(fn: (session: Queryable) => Promise<T>): Promise<T>;
  /** One transaction: committed when fn resolves, rolled back when it throws. */
  withTransaction<T>(fn: (tx: Queryable) => Promise<T>, opts?: TransactionOptions): Promise<T>;
  /**
   * Notifications on a channel: on PostgreSQL a connection of its own that
   * LISTENs, reconnecting when it breaks; embedded, PGlite's own LISTEN.
   * onReset() once listening (and after each reconnection): changes made
   * before may have been missed.
   */
  listen(channel: string, handlers: { onPayload(payload: string): void; onReset(): void }): Listener;
  close(): Promise<void>;
}

export interface DbOptions {
  databaseUrl?: string;
  dataDir: string;
  poolSize: number;
  log: Logger;
}

export function openDb(opts: DbOptions): Promise<Db> {
  return opts.databaseUrl ? openPostgres(opts.databaseUrl, opts.poolSize, opts.log) : openEmbedded(opts.dataDir, opts.log);
}

/** BEGIN with the options' isolation level and access mode. */
export function beginStatement(o: TransactionOptions = {}): string {
  return `BEGIN${o.isolation ? ` ISOLATION LEVEL ${o.isolation.toUpperCase()}` : ''}${o.readOnly ? ' READ ONLY' : ''}`;
}

/** A Queryable that logs each statement's text and duration. */
export function logged(run: (text: string, params: unknown[] | undefined, name?: string) => Promise<Result<Row>>, log: Logger): Queryable {
  return {
    async query<R extends Row>(statement: Statement, params?: unknown[]) {
      const start = performance.now();
      const text = typeof statement === 'string' ? statement : statement.text;
      try {
        return (await run(text, params, typeof statement === 'string' ? undefined : statement.name)) as Result<R>;
      } finally {
        log.debug('query', { sql: text.replace(/\s+/g, ' ').trim().slice(0, 200), ms: +(performance.now() - start).toFixed(2) });
      }
    },
  };
}
