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

export const EMBEDDED_MAX_CONNECTIONS = 1;

export interface Embedded {
  /** `pg` connection settings for the socket. */
  connection: { host: string; port: number; user: string; database: string };
  close(): Promise<void>;
}

export async function startEmbedded(dataDir: string): Promise<Embedded> {
  const dir = path.resolve(dataDir, 'pglite');
  fs.mkdirSync(dir, { recursive: true });
  const releaseLock = lockDir(path.resolve(dataDir));
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
 * corrupt it. A pid file created with O_EXCL refuses the second one; a pid
 * file left by a dead process is taken over.
 */
function lockDir(dataDir: string): () => void {
  const file = path.join(dataDir, 'breakwater.pid');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      fs.writeFileSync(file, String(process.pid), { flag: 'wx' });
      return () => fs.rmSync(file, { force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const pid = Number(fs.readFileSync(file, 'utf8'));
      if (pid && pid !== process.pid && isAlive(pid)) {
        throw new Error(`data directory ${dataDir} is in use by process ${pid} (stop it, or use the HTTP API)`);
      }
      if (pid === process.pid) throw new Error(`data directory ${dataDir} is already open in this process`);
      fs.rmSync(file, { force: true });
    }
  }
  throw new Error(`cannot lock data directory ${dataDir}`);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
