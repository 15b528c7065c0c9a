// A connection of its own that LISTENs on one channel: a plain client beside
// the pool, with TCP keepalive and a `SELECT 1` every 30 s, so that a
// connection a firewall or NAT dropped without a word is noticed. When it
// breaks, onReset() is called (a notification may have been missed) and it is
// opened again after 1 s, then 2, 4 ... up to 30 s. It needs a direct or
// session-mode connection (a pooler in transaction mode does not pass LISTEN on).
import type pg from 'pg';
import type { Listener } from '../db.ts';
import type { Logger } from '../log.ts';

const PROBE_MS = 30_000;

export function listener(
  newClient: () => pg.Client,
  channel: string,
  handlers: { onPayload(payload: string): void; onReset(): void },
  log: Logger,
): Listener {
  if (!/^[a-z_][a-z0-9_]*$/.test(channel)) throw new TypeError(`'${channel}' is not a channel name`);
  let client: pg.Client | undefined;
  let timer: NodeJS.Timeout | undefined;
  let probe: NodeJS.Timeout | undefined;
  let stopped = false;
  let delay = 1000;

  const retry = (err: Error) => {
    handlers.onReset();
    clearInterval(probe);
    const c = client;
    client = undefined;
    void c?.end().catch(() => {});
    if (stopped) return;
    log.warn('listening connection lost, retrying', { channel, error: err.message, retryMs: delay });
    timer = setTimeout(connect, delay);
    timer.unref();
    delay = Math.min(delay * 2, 30_000);
  };

  const connect = () => {
    const c = newClient();
    client = c;
    c.on('notification', (n) => {
      if (n.channel === channel && n.payload) handlers.onPayload(n.payload);
    });
    c.on('error', (err) => {
      if (client === c) retry(err);
    });
    c.on('end', () => {
      if (client === c && !stopped) retry(new Error('connection ended'));
    });
    c.connect()
      .then(() => c.query(`LISTEN ${channel}`))
      .then(() => {
        if (client !== c) return;
        handlers.onReset(); // whatever changed before LISTEN took effect
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
  return {
    async stop() {
      stopped = true;
      clearTimeout(timer);
      clearInterval(probe);
      const c = client;
      client = undefined;
      await c?.end().catch(() => {});
    },
  };
}
