// GET /healthz: the database answers.
import type { Queryable } from '../db.ts';

export async function ping(db: Queryable): Promise<void> {
  await db.query('SELECT 1');
}
