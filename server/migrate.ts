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
import { appliedMigrations, applyMigration, lockMigrations, unlockMigrations } from './sql/migrations.ts';

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
  const applied: string[] = [];
  await db.withSession(async (s) => {
    await lockMigrations(s);
    try {
      const done = await appliedMigrations(s);
      for (const m of migrations) {
        const prev = done.get(m.id);
        if (prev) {
          if (prev.hash !== m.hash) {
            throw new Error(
              `migration ${m.name} was changed after it was applied (hash ${prev.hash.slice(0, 12)} != ${m.hash.slice(0, 12)}); add a new migration instead`,
            );
          }
          continue;
        }
        const start = performance.now();
        try {
          await applyMigration(s, m);
        } catch (err) {
          throw new Error(`migration ${m.name} failed: ${(err as Error).message}`);
        }
        applied.push(m.name);
        log.info('migration applied', { migration: m.name, ms: Math.round(performance.now() - start) });
      }
    } finally {
      await unlockMigrations(s).catch(() => {});
    }
  });
  return applied;
}
