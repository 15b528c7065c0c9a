// The embedded database: PGlite (PostgreSQL compiled to WebAssembly) persisted
// in a data directory, served on a private Unix socket by pglite-socket so that
// the rest of the server reaches it through `pg` exactly like a real server.
//
// PGlite is a single PostgreSQL session. pglite-socket can multiplex several
// client connections onto it, but they then share that one session (the
// unnamed prepared statement, transactions, advisory locks), so interleaved
// extended-protocol messages of two clients could mix. We therefore accept one
// connection and size the pool to 1: PGlite runs one query at a time anyway.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import { LockBusy, lockDir } from '../lib/pid-lock.ts';

export const EMBEDDED_MAX_CONNECTIONS = 1;

export interface Embedded {
  /** `pg` connection settings for the socket. */
  connection: { host: string; port: number; user: string; database: string };
  close(): Promise<void>;
}

export async function startEmbedded(dataDir: string): Promise<Embedded> {
  const dir = path.resolve(dataDir, 'pglite');
  fs.mkdirSync(dir, { recursive: true });
  const releaseLock = lockDataDir(path.resolve(dataDir));
  let db: PGlite | undefined;
  let server: PGLiteSocketServer | undefined;
  // Unix socket paths are limited to ~107 bytes, so the socket lives in a short private temp dir.
  const sockDir = fs.mkdtempSync(path.join(os.tmpdir(), 'bw-pglite-'));
  const port = 5432;
  try {
    db = await PGlite.create({ dataDir: dir });
    server = new PGLiteSocketServer({
      db,
      path: path.join(sockDir, `.s.PGSQL.${port}`),
      maxConnections: EMBEDDED_MAX_CONNECTIONS,
    });
    await server.start();
  } catch (err) {
    await db?.close().catch(() => {});
    fs.rmSync(sockDir, { recursive: true, force: true });
    releaseLock();
    throw err;
  }
  const s = server;
  const d = db;
  return {
    connection: { host: sockDir, port, user: 'postgres', database: 'postgres' },
    async close() {
      await s.stop();
      await d.close();
      fs.rmSync(sockDir, { recursive: true, force: true });
      releaseLock();
    },
  };
}

/**
 * PGlite has no lock of its own: two processes on one data directory would
 * corrupt it. lib/pid-lock.ts refuses the second one (LockBusy, one sentence)
 * and takes over a pid file left by a process that is gone, even when its PID
 * now belongs to another process.
 */
function lockDataDir(dataDir: string): () => void {
  try {
    return lockDir(dataDir);
  } catch (err) {
    if (!(err instanceof LockBusy)) throw err;
    const hint = err.pid === process.pid ? '' : ' (stop it first, or use the HTTP API)';
    throw new LockBusy(`data directory ${err.message}${hint}`, err.pid);
  }
}
