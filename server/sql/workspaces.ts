// Workspaces and their user tokens.
import crypto from 'node:crypto';
import type { Queryable } from '../db.ts';
import { hashSecret, newToken } from '../secrets.ts';

export interface Workspace {
  id: number;
  uuid: string;
  name: string;
  default_pps_threshold: number;
  default_threshold_mode: string;
  default_bps_threshold: number | null;
  default_floor_pps: number | null;
  ioc_patterns: unknown[];
  kill_switch: boolean;
  created_at: Date;
}

const cols =
  'id, uuid, name, default_pps_threshold, default_threshold_mode, default_bps_threshold, default_floor_pps, ioc_patterns, kill_switch, created_at';

export async function createWorkspace(db: Queryable, name: string, defaultPpsThreshold?: number): Promise<Workspace> {
  const { rows } = await db.query<Workspace>(
    `INSERT INTO workspaces (uuid, name, default_pps_threshold) VALUES ($1, $2, coalesce($3, 50000)) RETURNING ${cols}`,
    [crypto.randomUUID(), name, defaultPpsThreshold ?? null],
  );
  return rows[0]!;
}

export async function getWorkspace(db: Queryable, id: number): Promise<Workspace | undefined> {
  const { rows } = await db.query<Workspace>(`SELECT ${cols} FROM workspaces WHERE id = $1`, [id]);
  return rows[0];
}

export async function findWorkspace(db: Queryable, idOrUuid: string): Promise<Workspace | undefined> {
  const byId = /^\d+$/.test(idOrUuid);
  const { rows } = await db.query<Workspace>(`SELECT ${cols} FROM workspaces WHERE ${byId ? 'id = $1::bigint' : 'uuid::text = $1'}`, [
    idOrUuid,
  ]);
  return rows[0];
}

/** Changes the fields given (null clears a nullable one). */
export async function updateWorkspace(
  db: Queryable,
  id: number,
  patch: {
    name?: string;
    default_pps_threshold?: number;
    default_threshold_mode?: string;
    default_bps_threshold?: number | null;
    default_floor_pps?: number | null;
    ioc_patterns?: unknown[];
  },
): Promise<Workspace | undefined> {
  const given = (
    ['name', 'default_pps_threshold', 'default_threshold_mode', 'default_bps_threshold', 'default_floor_pps', 'ioc_patterns'] as const
  ).filter((k) => patch[k] !== undefined);
  const sets = given.map((k, i) => `${k} = $${i + 2}${k === 'ioc_patterns' ? '::jsonb' : ''}`);
  const values = given.map((k) => (k === 'ioc_patterns' ? JSON.stringify(patch[k]) : patch[k]));
  const { rows } = await db.query<Workspace>(
    sets.length
      ? `UPDATE workspaces SET ${sets.join(', ')} WHERE id = $1 RETURNING ${cols}`
      : `SELECT ${cols} FROM workspaces WHERE id = $1`,
    [id, ...values],
  );
  return rows[0];
}

export async function setWorkspaceKillSwitch(db: Queryable, id: number, on: boolean): Promise<void> {
  await db.query('UPDATE workspaces SET kill_switch = $2 WHERE id = $1', [id, on]);
}

/** Creates a token; the returned string is shown once and never stored. */
export async function createToken(db: Queryable, workspaceId: number, name = ''): Promise<{ id: number; token: string }> {
  const t = newToken();
  const { rows } = await db.query<{ id: number }>(
    'INSERT INTO tokens (public_id, workspace_id, name, secret_hash) VALUES ($1, $2, $3, $4) RETURNING id',
    [t.publicId, workspaceId, name, hashSecret(t.secret)],
  );
  return { id: rows[0]!.id, token: t.token };
}

export async function tokenByPublicId(
  db: Queryable,
  publicId: string,
): Promise<{ id: number; workspace_id: number; secret_hash: Buffer } | undefined> {
  const { rows } = await db.query('SELECT id, workspace_id, secret_hash FROM tokens WHERE public_id = $1', [publicId]);
  return rows[0];
}

export async function listTokens(db: Queryable, workspaceId: number) {
  const { rows } = await db.query('SELECT id, public_id, name, created_at FROM tokens WHERE workspace_id = $1 ORDER BY id', [workspaceId]);
  return rows as { id: number; public_id: string; name: string; created_at: Date }[];
}

export async function deleteToken(db: Queryable, workspaceId: number, id: number): Promise<boolean> {
  const r = await db.query('DELETE FROM tokens WHERE workspace_id = $1 AND id = $2', [workspaceId, id]);
  return r.rowCount === 1;
}
