// The statements of the migration runner (server/migrate.ts).
import type { Queryable } from '../db.ts';

const LOCK_KEY = 0x42_57_4d_49; // "BWMI"

/** Session-level: several server processes starting together apply each migration once. */
export const lockMigrations = (s: Queryable) => s.query('SELECT pg_advisory_lock($1)', [LOCK_KEY]);
export const unlockMigrations = (s: Queryable) => s.query('SELECT pg_advisory_unlock($1)', [LOCK_KEY]);

export async function appliedMigrations(s: Queryable): Promise<Map<number, { id: number; name: string; hash: string }>> {
  await s.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
    id integer PRIMARY KEY, name text NOT NULL, hash text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now())`);
  const { rows } = await s.query<{ id: number; name: string; hash: string }>('SELECT id, name, hash FROM schema_migrations ORDER BY id');
  return new Map(rows.map((r) => [r.id, r]));
}

/** Runs one migration file's SQL and records it, in a transaction of its own on the session. */
export async function applyMigration(s: Queryable, m: { id: number; name: string; sql: string; hash: string }): Promise<void> {
  await s.query('BEGIN');
  try {
    await s.query(m.sql);
    await s.query('INSERT INTO schema_migrations (id, name, hash) VALUES ($1, $2, $3)', [m.id, m.name, m.hash]);
    await s.query('COMMIT');
  } catch (err) {
    await s.query('ROLLBACK').catch(() => {});
    throw err;
  }
}
