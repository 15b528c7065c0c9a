// Revoked node credentials reach every server process at once. Deleting a node
// or giving it a new key notifies CREDENTIALS_CHANNEL with its UUID when the
// change commits (a trigger, migrations/002); each process keeps one
// connection LISTENing on it (db.listen) and drops that node from its
// credential cache. When that connection breaks, the whole cache is dropped
// (a notification may have been missed); meanwhile entries still expire after
// CREDENTIALS_TTL_MS. The embedded database has one server process, whose own
// changes forget the node directly: nothing to listen to.
import { credentials } from './auth.ts';
import type { Db } from './db.ts';
import { CREDENTIALS_CHANNEL } from './sql/nodes.ts';

/** Starts listening; the returned function stops (and waits for the connection to close). */
export function listenForRevocations(db: Db): () => Promise<void> {
  if (db.kind !== 'postgres') return async () => {};
  const cache = credentials(db);
  const l = db.listen(CREDENTIALS_CHANNEL, { onPayload: (uuid) => cache.forget(uuid), onReset: () => cache.forget() });
  return () => l.stop();
}
