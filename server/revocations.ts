// Revoked node credentials reach every server process at once. Deleting a node
// or giving it a new key notifies CREDENTIALS_CHANNEL with its UUID when the
// change commits; each process keeps one connection LISTENing on it and drops
// that node from its credential cache. Without this, another process would
// accept the old key until its cache entry expired (CREDENTIALS_TTL_MS).
//
// The listening connection is a plain client next to the pool, with TCP
// keepalive and a `SELECT 1` every 30 s, so that a connection a firewall or
// NAT dropped without a word is noticed. When it breaks the whole cache is
// dropped (a notification may have been missed), and it is opened again after
// 1 s, then 2, 4 ... up to 30 s; meanwhile entries still expire after
// CREDENTIALS_TTL_MS. It needs a direct or session-mode connection (a pooler in
// transaction mode does not pass LISTEN on). The embedded database has one
// server process, whose own changes forget the node directly: nothing to
// listen to.
import pg from 'pg';
import { credentials } from './auth.ts';
import type { Db } from './db.ts';
import type { Logger } from './log.ts';
import { CREDENTIALS_CHANNEL } from './sql/nodes.ts';

const PROBE_MS = 30_000;

/** Starts listening; the returned function stops (and waits for the connection to close). */
export function listenForRevocations(db: Db, log: Logger): () => Promise<void> {
  if (db.kind !== 'postgres') return async () => {};
  const cache = credentials(db);
  let client: pg.Client | undefined;
  let timer: NodeJS.Timeout | undefined;
  let probe: NodeJS.Timeout | undefined;
  let stopped = false;
  let delay = 1000;

  const retry = (err: Error) => {
    cache.forget();
    clearInterval(probe);
    const c = client;
    client = undefined;
    void c?.end().catch(() => {});
    if (stopped) return;
    log.warn('credential revocations: listening connection lost, retrying', { error: err.message, retryMs: delay });
    timer = setTimeout(connect, delay);
    timer.unref();
    delay = Math.min(delay * 2, 30_000);
  };

  const connect = () => {
    const c = new pg.Client({ ...db.pool.options, keepAlive: true, keepAliveInitialDelayMillis: 10_000 });
    client = c;
    c.on('notification', (n) => {
      if (n.channel === CREDENTIALS_CHANNEL && n.payload) cache.forget(n.payload);
    });
    c.on('error', (err) => {
      if (client === c) retry(err);
    });
    c.on('end', () => {
      if (client === c && !stopped) retry(new Error('connection ended'));
    });
    c.connect()
      .then(() => c.query(`LISTEN ${CREDENTIALS_CHANNEL}`))
      .then(() => {
        if (client !== c) return;
        cache.forget(); // whatever changed before LISTEN took effect
        delay = 1000;
        probe = setInterval(() => {
          c.query('SELECT 1').catch((err: Error) => {
            if (client === c) retry(err);
          });
        }, PROBE_MS);
        probe.unref();
      })
      .catch((err: Error) => {
        if (client === c) retry(err);
      });
  };

  connect();
  return async () => {
    stopped = true;
    clearTimeout(timer);
    clearInterval(probe);
    const c = client;
    client = undefined;
    await c?.end().catch(() => {});
  };
}
