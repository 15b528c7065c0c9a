// Runs each server test against both databases: the embedded default (PGlite
// in a temp data dir) and a real PostgreSQL started for the file. Without
// root the PostgreSQL half is skipped with the reason (a failure under CI=true).
//
//   const each = withServers(test);
//   each('heartbeat updates last_seen_at', async (t, srv) => { ... });
//   each.serial(...) for a test that must not overlap the file's others.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import type { ExecutionContext, TestFn } from 'ava';
import { type RunningServer, type StartOptions, silentLogger, startServer } from '../../server/index.ts';
import { canRunPostgres, type Postgres, startPostgres } from '../helpers/postgres.ts';
import { requireOrSkip } from '../helpers/privileged.ts';

export type Kind = 'embedded' | 'postgres';

/** A fresh PGlite data dir: a copy of a template initialised once per machine (initdb takes seconds). */
export async function freshDataDir(): Promise<string> {
  const version = JSON.parse(
    fs.readFileSync(new URL('../../node_modules/@electric-sql/pglite/package.json', import.meta.url), 'utf8'),
  ).version;
  const template = path.join(os.tmpdir(), `bw-pglite-template-${version}`);
  if (!fs.existsSync(template)) {
    const building = fs.mkdtempSync(path.join(os.tmpdir(), 'bw-pglite-building-'));
    const db = await PGlite.create({ dataDir: path.join(building, 'pglite') });
    await db.close();
    try {
      fs.renameSync(building, template);
    } catch {
      fs.rmSync(building, { recursive: true, force: true }); // another worker won the race
    }
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bw-test-'));
  fs.cpSync(path.join(template, 'pglite'), path.join(dir, 'pglite'), { recursive: true });
  return dir;
}

export interface Servers {
  embedded?: RunningServer;
  postgres?: RunningServer;
  pg?: Postgres;
  dirs: string[];
}

/** Starts the file's servers before its tests and stops them after; returns a per-database test registrar. */
export function withServers(test: TestFn<unknown>, opts: StartOptions = {}) {
  const kinds: Kind[] = ['embedded'];
  if (requireOrSkip(test, canRunPostgres)) kinds.push('postgres');
  const s: Servers = { dirs: [] };
  const base = { port: 0, host: '127.0.0.1', log: silentLogger, maintenanceIntervalSeconds: 0, authFailuresPerMinute: 0, ...opts };

  test.before(async () => {
    await Promise.all([
      (async () => {
        const dir = await freshDataDir();
        s.dirs.push(dir);
        s.embedded = await startServer({ ...base, dataDir: dir, databaseUrl: undefined });
      })(),
      kinds.includes('postgres')
        ? (async () => {
            s.pg = await startPostgres();
            s.postgres = await startServer({ ...base, databaseUrl: s.pg.url });
          })()
        : Promise.resolve(),
    ]);
  });
  test.after.always(async () => {
    await s.embedded?.close();
    await s.postgres?.close();
    await s.pg?.stop();
    for (const d of s.dirs) fs.rmSync(d, { recursive: true, force: true });
  });

  type Body = (t: ExecutionContext<unknown>, srv: RunningServer, kind: Kind) => Promise<void> | void;
  const register = (define: typeof test | typeof test.serial, title: string, fn: Body) => {
    for (const kind of kinds) {
      define(`[${kind}] ${title}`, async (t) => {
        const srv = s[kind];
        if (!srv) return t.fail(`${kind} server did not start`);
        await fn(t, srv, kind);
      });
    }
  };
  const each = (title: string, fn: Body) => register(test, title, fn);
  /** A test that must not overlap the file's others (e.g. one that counts what a maintenance round did server-wide). */
  each.serial = (title: string, fn: Body) => register(test.serial, title, fn);
  each.servers = s;
  each.kinds = kinds;
  return each;
}

/** A workspace with one node, ready for agent calls. */
export async function setup(srv: RunningServer, name = 'ws') {
  const ws = await srv.admin.createWorkspace(`${name}-${Math.random().toString(36).slice(2, 8)}`);
  const node = await srv.admin.createNode(ws.id, 'node-a', { ip: '192.0.2.10' });
  return { ws, node };
}

export async function count(srv: RunningServer, sql: string, params: unknown[] = []): Promise<number> {
  const { rows } = await srv.db.query<{ n: number }>(`SELECT (${sql})::int AS n`, params);
  return rows[0]!.n;
}
