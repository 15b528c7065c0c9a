// A real PostgreSQL for tests and benchmarks: Debian's server binaries, a
// fresh cluster (initdb) in a private temp directory, listening on a free
// loopback port and a private socket directory; stopped and removed by
// stop(), or at process exit if the caller forgot. PostgreSQL refuses to run
// as root, so as root it runs as the `postgres` user (runuser).
//
//   const pg = await startPostgres();                // { url, port, stop() }
//   const url = await pg.createDatabase('t1');       // a fresh database on it
//   await pg.stop();
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { Requirement } from './privileged.ts';

const BIN = process.env.PG_BIN ?? '/usr/lib/postgresql/15/bin';

export const postgresInstalled: Requirement = () =>
  fs.existsSync(path.join(BIN, 'initdb')) ? null : `PostgreSQL server binaries not found in ${BIN} (apt-get install postgresql)`;

/** Root, or the postgres user, is needed: a cluster cannot be started as root. */
export const canRunPostgres: Requirement = () => {
  const uid = process.getuid?.();
  if (uid !== 0) return 'needs root to start PostgreSQL as the postgres user';
  return postgresInstalled();
};

export interface Postgres {
  url: string;
  port: number;
  /** Creates a database and returns its URL. */
  createDatabase(name: string): Promise<string>;
  stop(): Promise<void>;
}

export interface PostgresOptions {
  /** Durable settings (fsync on) for benchmarks; tests run with fsync off. */
  durable?: boolean;
  /** Extra `-c name=value` settings. */
  settings?: Record<string, string | number>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

export async function startPostgres(opts: PostgresOptions = {}): Promise<Postgres> {
  const why = canRunPostgres();
  if (why) throw new Error(why);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bw-pg-'));
  const data = path.join(dir, 'data');
  fs.chmodSync(dir, 0o700);
  execFileSync('chown', ['postgres:postgres', dir]);
  const asPg = (cmd: string, args: string[]) =>
    execFileSync('runuser', ['-u', 'postgres', '--', path.join(BIN, cmd), ...args], { stdio: 'pipe', cwd: dir });
  let started = false;
  const cleanup = () => {
    if (started)
      spawnSync('runuser', ['-u', 'postgres', '--', path.join(BIN, 'pg_ctl'), '-D', data, '-m', 'immediate', 'stop'], { stdio: 'ignore' });
    started = false;
    fs.rmSync(dir, { recursive: true, force: true });
  };
  process.once('exit', cleanup);
  try {
    asPg('initdb', ['-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-sync', '--no-instructions']);
    const port = await freePort();
    const settings: Record<string, string | number> = {
      listen_addresses: '127.0.0.1',
      unix_socket_directories: dir,
      max_connections: 200,
      ...(opts.durable ? {} : { fsync: 'off', synchronous_commit: 'off', full_page_writes: 'off' }),
      ...opts.settings,
    };
    const o = [`-p ${port}`, ...Object.entries(settings).map(([k, v]) => `-c ${k}=${v}`)].join(' ');
    started = true;
    asPg('pg_ctl', ['-D', data, '-o', o, '-l', path.join(dir, 'log'), '-w', '-t', '30', 'start']);
    const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
    return {
      url,
      port,
      async createDatabase(name) {
        if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`bad database name ${name}`);
        asPg('psql', ['-h', dir, '-p', String(port), '-U', 'postgres', '-qAtc', `CREATE DATABASE ${name}`]);
        return `postgres://postgres@127.0.0.1:${port}/${name}`;
      },
      async stop() {
        process.removeListener('exit', cleanup);
        cleanup();
      },
    };
  } catch (err) {
    const log = path.join(dir, 'log');
    const tail = fs.existsSync(log) ? fs.readFileSync(log, 'utf8').slice(-2000) : '';
    process.removeListener('exit', cleanup);
    cleanup();
    throw new Error(`could not start PostgreSQL: ${(err as Error).message}\n${tail}`);
  }
}
