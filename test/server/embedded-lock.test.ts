// The embedded database's data directory belongs to one process: a live
// server on it refuses a second one (one line, exit status 1, no stack), and
// a pid file left behind never blocks start-up, also when its PID now belongs
// to another live process.
import { execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import test from 'ava';
import { silentLogger, startServer } from '../../server/index.ts';
import { freshDataDir } from './_harness.ts';

const cli = new URL('../../scripts/breakwater.mjs', import.meta.url).pathname;
const run = promisify(execFile);
const env = { ...process.env, DATABASE_URL: '', BREAKWATER_SERVER_CONFIG: '' };
const linux = fs.existsSync('/proc/self/stat');
const boot = linux ? fs.readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim() : '';

async function withDataDir(fn: (dir: string) => Promise<unknown>) {
  const dir = await freshDataDir();
  try {
    await fn(dir);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** `breakwater server` on `dir` until it listens, then SIGTERM; resolves to its exit status. */
async function serveOnce(dir: string): Promise<{ code: number | null; logs: string }> {
  const child = spawn(
    'node',
    [cli, 'server', '--port', '0', '--host', '127.0.0.1', '--data-dir', dir, '--maintenance-interval-seconds', '0'],
    { env, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let logs = '';
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
  let stopped = false;
  child.stderr.on('data', (c) => {
    logs += c;
    if (!stopped && logs.includes('"msg":"server listening"')) stopped = child.kill('SIGTERM'); // once: a second signal exits at once
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  const code = await exited;
  clearTimeout(timer);
  return { code, logs };
}

test('a live server on the data directory refuses a second server and an admin command: one line, status 1', (t) =>
  withDataDir(async (dir) => {
    const srv = await startServer({ port: 0, host: '127.0.0.1', dataDir: dir, log: silentLogger, maintenanceIntervalSeconds: 0 });
    try {
      const line = `breakwater: data directory ${dir} is in use by process ${process.pid} (stop it first, or use the HTTP API)\n`;
      for (const args of [
        ['server', '--port', '0'],
        ['workspace', 'create', '--name', 'x'],
      ]) {
        const r = await run('node', [cli, ...args, '--data-dir', dir], { env }).catch((e) => e);
        t.is(r.code, 1, args.join(' '));
        t.is(r.stderr, line, args.join(' '));
      }
      await t.throwsAsync(startServer({ port: 0, dataDir: dir, log: silentLogger }), {
        message: `data directory ${dir} is already open in this process`,
      });
    } finally {
      await srv.close();
    }
    t.false(fs.existsSync(path.join(dir, 'breakwater.pid')), 'the server removes its pid file when it stops');
  }));

test('a stale pid file whose PID is a live unrelated process does not block start-up', (t) =>
  withDataDir(async (dir) => {
    if (!linux) return t.pass('no /proc: start times cannot be read');
    const pidFile = path.join(dir, 'breakwater.pid');
    // The test's parent (ava) is alive and holds no lock; its start time is not 1.
    fs.writeFileSync(pidFile, `${process.ppid} 1 ${boot}\n`);
    const { code, logs } = await serveOnce(dir);
    t.is(code, 0, logs);
    t.true(logs.includes('"msg":"server stopped"'), logs);
    t.false(fs.existsSync(pidFile));

    // A file of an older version (PID alone), written before that process started.
    const other = spawn('sleep', ['60'], { stdio: 'ignore' });
    try {
      await new Promise((resolve) => other.once('spawn', resolve));
      fs.writeFileSync(pidFile, String(other.pid));
      const before = new Date(Date.now() - 3_600_000);
      fs.utimesSync(pidFile, before, before);
      const r = await run('node', [cli, 'workspace', 'create', '--name', 'after-crash', '--data-dir', dir], { env });
      t.is(JSON.parse(r.stdout).name, 'after-crash');
    } finally {
      other.kill();
    }
  }));
