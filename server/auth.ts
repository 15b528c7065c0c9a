// Authentication. Agents: `Authorization: Bearer <node key>` + `X-Node-UUID`;
// users and Prometheus: `Authorization: Bearer <workspace token>` (or, for
// /api/metrics only, `?token=`). Every failure is 401 with the same message
// whether or not the key exists (SPEC's 403 for "a key of another node"
// would tell a caller that the key is real); past 20 failures a minute from
// one address it is 429 (auth-limit.ts). These middlewares run before the
// body is read, so a refused request writes nothing.
import type { Context, Next } from 'koa';
import { FailureLimiter } from './auth-limit.ts';
import type { Db } from './db.ts';
import { unauthorized } from './errors.ts';
import { bearer, secretMatches, splitToken } from './secrets.ts';
import { nodeCredentials } from './sql/nodes.ts';
import { tokenByPublicId } from './sql/workspaces.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface AgentState {
  node: { id: number; uuid: string; workspaceId: number };
}
export interface UserState {
  workspaceId: number;
  tokenId: number;
}

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
  private readonly cache = new Map<string, Credentials & { at: number }>();
  private epoch = 0; // bumped by forget: a lookup that ran meanwhile is not cached
  private waiting = new Map<string, ((row: Credentials | undefined, err?: Error) => void)[]>();
  private busy = false;

  constructor(private readonly db: Db) {}

  lookup(uuid: string): Promise<Credentials | undefined> {
    const hit = this.cache.get(uuid);
    if (hit && hit.at + CREDENTIALS_TTL_MS > Date.now()) return Promise.resolve(hit);
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
    nodeCredentials(this.db, [...batch.keys()])
      .then(
        (rows) => {
          const at = Date.now();
          if (this.cache.size + rows.size >= 200_000) this.cache.clear();
          for (const [uuid, cbs] of batch) {
            const row = rows.get(uuid);
            if (row && epoch === this.epoch) this.cache.set(uuid, { ...row, at });
            else this.cache.delete(uuid);
            for (const cb of cbs) cb(row);
          }
        },
        (err: Error) => {
          for (const cbs of batch.values()) for (const cb of cbs) cb(undefined, err);
        },
      )
      .finally(() => {
        this.busy = false;
        this.run();
      });
  }
}

/** Per server: node credentials, failures per client address. */
interface AuthState {
  nodes: CredentialCache;
  limiter: FailureLimiter;
}
const states = new WeakMap<Db, AuthState>();
function state(db: Db): AuthState {
  let s = states.get(db);
  if (!s) {
    s = { nodes: new CredentialCache(db), limiter: new FailureLimiter() };
    states.set(db, s);
  }
  return s;
}

/** Failed authentications allowed per minute and client address (0: no limit); the server sets it at start. */
export function limitFailures(db: Db, perMinute: number): void {
  state(db).limiter = new FailureLimiter({ max: perMinute > 0 ? perMinute : Infinity, windowMs: 60_000 });
}

/** The credential cache of a database (one per server). */
export const credentials = (db: Db): CredentialCache => state(db).nodes;

/**
 * Credentials are always verified, so valid ones pass whatever others sent
 * from the same address; a failure is 401, or 429 once the address is past
 * its failures for the minute.
 */
async function guarded<T>(db: Db, client: string | undefined, verify: () => Promise<T | undefined>, message: string): Promise<T> {
  const ok = await verify();
  if (ok !== undefined) return ok;
  const { limiter } = state(db);
  const blocked = limiter.blockedFor(client);
  if (blocked > 0) throw limiter.refusal(blocked);
  limiter.fail(client);
  throw unauthorized(message);
}

/**
 * The node an agent request speaks for, from its Authorization and
 * X-Node-UUID headers and the client's address; 401 (or 429) otherwise.
 * Runs before the body is read.
 */
export async function authenticateNode(
  db: Db,
  authorization: string | undefined,
  uuidHeader: string | undefined,
  client: string | undefined,
): Promise<AgentState['node']> {
  return guarded(
    db,
    client,
    async () => {
      const key = bearer(authorization);
      if (!key || !uuidHeader || !UUID.test(uuidHeader)) return undefined;
      const uuid = uuidHeader.toLowerCase();
      const node = await credentials(db).lookup(uuid);
      if (!node || !secretMatches(key, node.key_hash)) return undefined;
      return { id: node.id, uuid, workspaceId: node.workspace_id };
    },
    'missing or invalid node credentials (Authorization: Bearer <node key>, X-Node-UUID: <node uuid>)',
  );
}

export function agentAuth(db: Db) {
  return async (ctx: Context, next: Next) => {
    ctx.state.node = await authenticateNode(db, ctx.get('authorization'), ctx.get('x-node-uuid'), ctx.req.socket.remoteAddress);
    await next();
  };
}

export function userAuth(db: Db, opts: { allowQueryToken?: boolean } = {}) {
  return async (ctx: Context, next: Next) => {
    const row = await guarded(
      db,
      ctx.req.socket.remoteAddress,
      async () => {
        let token = bearer(ctx.get('authorization'));
        if (!token && opts.allowQueryToken && typeof ctx.query.token === 'string') token = ctx.query.token;
        const parts = token ? splitToken(token) : null;
        if (!parts) return undefined;
        const found = await tokenByPublicId(db, parts.publicId);
        return found && secretMatches(parts.secret, found.secret_hash) ? found : undefined;
      },
      'missing or invalid workspace token (Authorization: Bearer <token>)',
    );
    ctx.state.workspaceId = row.workspace_id;
    ctx.state.tokenId = row.id;
    await next();
  };
}
