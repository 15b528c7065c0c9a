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
 * Node credentials looked up recently, by UUID, per database (so per server):
 * agents call every second, so this saves a query per request. Only the
 * stored hash is cached and every request is still compared against it.
 * A node deleted or given a new key is dropped from the cache at once: in this
 * process by forget(), in the other processes of a PostgreSQL database by the
 * notification that revocations.ts listens for; CREDENTIALS_TTL_MS bounds how
 * stale an entry can get if a notification is ever missed.
 *
 * Cache misses are looked up together: the UUIDs asked for while a lookup
 * runs go in the next one (`WHERE uuid = ANY(...)`), so thousands of agents
 * whose entries expire cost a few queries a second, not one each.
 */
export const CREDENTIALS_TTL_MS = 10_000;
type Credentials = { id: number; workspace_id: number; key_hash: Buffer };

class CredentialCache {
  private readonly cache = new Map<string, Credentials & { until: number }>();
  private epoch = 0; // bumped by forget: a lookup that ran meanwhile is not cached
  private waiting = new Map<string, ((row: Credentials | undefined, err?: Error) => void)[]>();
  private busy = false;

  constructor(private readonly db: Db) {}

  lookup(uuid: string): Promise<Credentials | undefined> {
    const hit = this.cache.get(uuid);
    if (hit && hit.until > Date.now()) return Promise.resolve(hit);
    return new Promise((resolve, reject) => {
      const cb = (row: Credentials | undefined, err?: Error) => (err ? reject(err) : resolve(row));
      const cbs = this.waiting.get(uuid);
      if (cbs) cbs.push(cb);
      else this.waiting.set(uuid, [cb]);
      this.run();
    });
  }

  /** Drops one node (or, without a UUID, every node) from the cache. */
  forget(uuid?: string): void {
    this.epoch++;
    if (uuid === undefined) this.cache.clear();
    else this.cache.delete(uuid);
  }

  private run(): void {
    if (this.busy || this.waiting.size === 0) return;
    const batch = this.waiting;
    this.waiting = new Map();
    this.busy = true;
    const epoch = this.epoch;
    nodeCredentials(this.db.pool, [...batch.keys()]).then(
      (rows) => {
        const until = Date.now() + CREDENTIALS_TTL_MS;
        if (this.cache.size + rows.size >= 200_000) this.cache.clear();
        for (const [uuid, cbs] of batch) {
          const row = rows.get(uuid);
          if (row && epoch === this.epoch) this.cache.set(uuid, { ...row, until });
          else this.cache.delete(uuid);
          for (const cb of cbs) cb(row);
        }
      },
      (err: Error) => {
        for (const cbs of batch.values()) for (const cb of cbs) cb(undefined, err);
      },
    ).finally(() => {
      this.busy = false;
      this.run();
    });
  }
}

const caches = new WeakMap<Db, CredentialCache>();
/** The credential cache of a database (one per server). */
export function credentials(db: Db): CredentialCache {
  let c = caches.get(db);
  if (!c) caches.set(db, (c = new CredentialCache(db)));
  return c;
}

/**
 * The node an agent request speaks for, from its Authorization and
 * X-Node-UUID headers; 401 or 403 otherwise. Runs before the body is read.
 */
export async function authenticateNode(db: Db, authorization: string | undefined, uuidHeader: string | undefined): Promise<AgentState['node']> {
  const key = bearer(authorization);
  if (!key) throw unauthorized('missing Authorization: Bearer <node key>');
  if (!uuidHeader || !UUID.test(uuidHeader)) throw unauthorized('missing or malformed X-Node-UUID header');
  const uuid = uuidHeader.toLowerCase();
  const node = await credentials(db).lookup(uuid);
  if (!secretMatches(key, node?.key_hash)) {
    const { rowCount } = await db.query('SELECT 1 FROM nodes WHERE key_hash = $1', [hashSecret(key)]);
    if (rowCount) throw forbidden('this key belongs to another node than X-Node-UUID');
    throw unauthorized('unknown node or wrong key');
  }
  return { id: node!.id, uuid, workspaceId: node!.workspace_id };
}

export function agentAuth(db: Db) {
  return async (ctx: Context, next: Next) => {
    ctx.state.node = await authenticateNode(db, ctx.get('authorization'), ctx.get('x-node-uuid'));
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
