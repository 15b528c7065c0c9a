// Authentication. Agents: `Authorization: Bearer <node key>` + `X-Node-UUID`;
// users and Prometheus: `Authorization: Bearer <workspace token>` (or, for
// /api/metrics only, `?token=`). Missing or wrong credentials are 401; a node
// key that belongs to another node than X-Node-UUID is 403. These middlewares
// run before the body is read, so a refused request writes nothing.
import type { Context, Next } from 'koa';
import type { Db } from './db.ts';
import { forbidden, unauthorized } from './errors.ts';
import { bearer, hashSecret, secretMatches, splitToken } from './secrets.ts';
import { nodeCredentials } from './sql/nodes.ts';
import { tokenByPublicId } from './sql/workspaces.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface AgentState { node: { id: number; uuid: string; workspaceId: number } }
export interface UserState { workspaceId: number; tokenId: number }

/**
 * Node credentials looked up recently, by UUID: agents call every second, so
 * this saves a query per request. Only the stored hash is cached and every
 * request is still compared against it. A deleted node is dropped from this
 * process's cache at once (forgetNode) and from other processes' within TTL.
 */
export const CREDENTIALS_TTL_MS = 10_000;
const cache = new Map<string, { id: number; workspace_id: number; key_hash: Buffer; until: number }>();
export const forgetNode = (uuid: string) => cache.delete(uuid);

async function credentials(db: Db, uuid: string) {
  const now = Date.now();
  const hit = cache.get(uuid);
  if (hit && hit.until > now) return hit;
  const row = await nodeCredentials(db.pool, uuid);
  if (!row) {
    cache.delete(uuid);
    return undefined;
  }
  if (cache.size >= 200_000) cache.clear();
  const entry = { ...row, until: now + CREDENTIALS_TTL_MS };
  cache.set(uuid, entry);
  return entry;
}

export function agentAuth(db: Db) {
  return async (ctx: Context, next: Next) => {
    const key = bearer(ctx.get('authorization'));
    const uuid = ctx.get('x-node-uuid');
    if (!key) throw unauthorized('missing Authorization: Bearer <node key>');
    if (!UUID.test(uuid)) throw unauthorized('missing or malformed X-Node-UUID header');
    const node = await credentials(db, uuid.toLowerCase());
    if (!secretMatches(key, node?.key_hash)) {
      const { rowCount } = await db.query('SELECT 1 FROM nodes WHERE key_hash = $1', [hashSecret(key)]);
      if (rowCount) throw forbidden('this key belongs to another node than X-Node-UUID');
      throw unauthorized('unknown node or wrong key');
    }
    ctx.state.node = { id: node!.id, uuid: uuid.toLowerCase(), workspaceId: node!.workspace_id };
    await next();
  };
}

export function userAuth(db: Db, opts: { allowQueryToken?: boolean } = {}) {
  return async (ctx: Context, next: Next) => {
    let token = bearer(ctx.get('authorization'));
    if (!token && opts.allowQueryToken && typeof ctx.query.token === 'string') token = ctx.query.token;
    if (!token) throw unauthorized('missing Authorization: Bearer <workspace token>');
    const parts = splitToken(token);
    const row = parts ? await tokenByPublicId(db.pool, parts.publicId) : undefined;
    if (!secretMatches(parts?.secret ?? token, row?.secret_hash)) throw unauthorized('invalid workspace token');
    ctx.state.workspaceId = row!.workspace_id;
    ctx.state.tokenId = row!.id;
    await next();
  };
}
