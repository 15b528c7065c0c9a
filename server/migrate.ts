// Forward-only migrations: migrations/NNN_name.sql, applied in order at start,
// each in its own transaction, recorded with a sha256 of its content, under an
// advisory lock so that several server processes starting together apply each
// file once. A recorded file whose content changed is refused.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Db } from './db.ts';
import type { Logger } from './log.ts';

const LOCK_KEY = 0x42_57_4d_49; // "BWMI"
export const migrationsDir = path.join(path.dirname(fileURLToPath(import.meta.url)), 'migrations');

export interface Migration {
  id: number;
  name: string;
  sql: string;
  hash: string;
}

export function loadMigrations(dir = migrationsDir): Migration[] {
  return fs
    .readdirSync(dir)
    .filter((f) => /^\d{3}_[a-z0-9_]+\.sql$/.test(f))
    .sort()
    .map((f) => {
      const sql = fs.readFileSync(path.join(dir, f), 'utf8');
      return { id: Number(f.slice(0, 3)), name: f, sql, hash: crypto.createHash('sha256').update(sql).digest('hex') };
    });
}

/** Applies the pending migrations; returns the names applied now. */
export async function migrate(db: Db, log: Logger, dir = migrationsDir): Promise<string[]> {
  const migrations = loadMigrations(dir);
  const client = await db.pool.connect();
  const applied: string[] = [];
  try {
    await client.query('SELECT pg_advisory_lock($1)', [LOCK_KEY]);
    await client.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
      id integer PRIMARY KEY, name text NOT NULL, hash text NOT NULL,
      applied_at timestamptz NOT NULL DEFAULT now())`);
    const { rows } = await client.query<{ id: number; name: string; hash: string }>(
      'SELECT id, name, hash FROM schema_migrations ORDER BY id',
    );
    const done = new Map(rows.map((r) => [r.id, r]));
    for (const m of migrations) {
      const prev = done.get(m.id);
      if (prev) {
        if (prev.hash !== m.hash) {
          throw new Error(`migration ${m.name} was changed after it was applied (hash ${prev.hash.slice(0, 12)} != ${m.hash.slice(0, 12)}); add a new migration instead`);
        }
        continue;
      }
      const start = performance.now();
      await client.query('BEGIN');
      try {
        await client.query(m.sql);
        await client.query('INSERT INTO schema_migrations (id, name, hash) VALUES ($1, $2, $3)', [m.id, m.name, m.hash]);
        await client.query('COMMIT');
      } catch (err) {
        await client.query('ROLLBACK').catch(() => {});
        throw new Error(`migration ${m.name} failed: ${(err as Error).message}`);
      }
      applied.push(m.name);
      log.info('migration applied', { migration: m.name, ms: Math.round(performance.now() - start) });
    }
  } finally {
    await client.query('SELECT pg_advisory_unlock($1)', [LOCK_KEY]).catch(() => {});
    client.release();
  }
  return applied;
}
