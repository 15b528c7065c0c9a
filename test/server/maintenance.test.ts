// Rollups, retention and baselines (run on demand), and the migration runner,
// on both databases.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import test from 'ava';
import pg from 'pg';
import { openDb } from '../../server/db.ts';
import { startServer } from '../../server/index.ts';
import { silentLogger } from '../../server/log.ts';
import { LOCK_KEY, runMaintenance, scheduleMaintenance } from '../../server/maintenance.ts';
import { migrate, migrationsDir } from '../../server/migrate.ts';
import { agentHeaders, request } from '../helpers/http.ts';
import { count, freshDataDir, setup, withServers } from './_harness.ts';

const each = withServers(test);

async function insertAt(srv: Parameters<Parameters<typeof each>[1]>[1], nodeId: number, agoSeconds: number[], pps: (i: number) => number) {
  await srv.db.query(
    `INSERT INTO metrics_raw (node_id, recorded_at, pps, bps)
     SELECT $1, now() - make_interval(secs => a), p, p * 8 FROM unnest($2::float8[], $3::bigint[]) AS t(a, p)`,
    [nodeId, agoSeconds, agoSeconds.map((_, i) => pps(i))],
  );
}

each.serial('rollups per minute, raw retention and rollup retention are enforced', async (t, srv) => {
  const { ws, node } = await setup(srv);
  const cfg = { ...srv.config, rawRetentionHours: 2, rollupRetentionDays: 1 };
  // 3 hours ago (past raw retention): 60 samples in one minute; 10 minutes ago: 30 samples; 2 days ago: 5 samples.
  const old = Array.from({ length: 60 }, (_, i) => 3 * 3600 + 30 - i * 0.5);
  await insertAt(srv, node.id, old, (i) => i);
  const recentStart = Math.floor(Date.now() / 60000) * 60000 - 10 * 60000; // start of the minute 10 min ago
  const recent = Array.from({ length: 30 }, (_, i) => (Date.now() - recentStart) / 1000 - i * 2);
  await insertAt(srv, node.id, recent, (i) => 100 + i);
  await insertAt(srv, node.id, [2 * 86400, 2 * 86400 + 1], () => 5);
  const r = await runMaintenance(srv.db, { ...cfg, maintenanceIntervalSeconds: 900 });
  t.true(r.ran);
  t.is(r.rawDeleted, 62);
  t.is(await count(srv, 'SELECT count(*) FROM metrics_raw WHERE node_id = $1', [node.id]), 30);
  // The old raw minute(s) survive as rollups; the 2-day-old rollup is past rollup retention.
  t.is(await count(srv, "SELECT count(*) FROM metrics_minute WHERE node_id = $1 AND minute < now() - interval '1 day'", [node.id]), 0);
  t.is(
    await count(srv, "SELECT sum(samples) FROM metrics_minute WHERE node_id = $1 AND minute < now() - interval '2 hours'", [node.id]),
    60,
  );
  const { rows } = await srv.db.query(
    'SELECT samples, pps_avg, pps_max FROM metrics_minute WHERE node_id = $1 AND minute = to_timestamp($2 / 1000.0)',
    [node.id, recentStart],
  );
  t.deepEqual(rows[0], { samples: 30, pps_avg: 114.5, pps_max: 129 });
  // Served by the user API at minute resolution.
  const series = await request(
    srv.url,
    'GET',
    `/api/v1/nodes/${node.id}/metrics?resolution=minute&from=${new Date(Date.now() - 4 * 3600_000).toISOString()}`,
    { headers: { authorization: `Bearer ${ws.token}` } },
  );
  t.is(series.status, 200);
  t.true(series.body.samples.length >= 2);
});

each.serial('baseline: mean, p95, p99 from samples outside incidents', async (t, srv) => {
  const { node } = await setup(srv);
  // 200 normal samples (pps 1..200) over the last 20 minutes, then an attack at 1e6 pps inside an incident.
  await insertAt(
    srv,
    node.id,
    Array.from({ length: 200 }, (_, i) => 1200 - i * 5),
    (i) => i + 1,
  );
  const inc = await request(srv.url, 'POST', '/api/v1/agent/incident', {
    headers: agentHeaders(node),
    json: { attack_family: 'udp_flood', severity: 'critical' },
  });
  t.is(inc.status, 201);
  await request(srv.url, 'POST', '/api/v1/agent/metrics', {
    headers: agentHeaders(node),
    json: Array.from({ length: 20 }, () => ({ pps: 1_000_000, bps: 1 })),
  });
  await runMaintenance(srv.db, srv.config);
  const { rows } = await srv.db.query(
    'SELECT round(mean_pps::numeric, 3)::float8 AS mean_pps, round(p95_pps::numeric, 3)::float8 AS p95_pps, round(p99_pps::numeric, 3)::float8 AS p99_pps, samples FROM baselines WHERE node_id = $1',
    [node.id],
  );
  t.deepEqual(rows[0], { mean_pps: 100.5, p95_pps: 190.05, p99_pps: 198.01, samples: 200 });
});

// On a server and database of its own: its rounds and its lock must not meet the other tests'.
for (const kind of each.kinds) {
  test(`[${kind}] the schedule runs rounds by itself; a round another process holds is skipped`, async (t) => {
    const dir = kind === 'embedded' ? await freshDataDir() : undefined;
    const url = kind === 'postgres' ? await each.servers.pg!.createDatabase('schedule') : undefined;
    const srv = await startServer({
      port: 0,
      host: '127.0.0.1',
      log: silentLogger,
      maintenanceIntervalSeconds: 0,
      dataDir: dir,
      databaseUrl: url,
    });
    try {
      const { node } = await setup(srv);
      await insertAt(srv, node.id, [30, 20, 10], (i) => 100 * (i + 1));
      const baseline = async () => (await request(srv.url, 'GET', '/api/v1/agent/config', { headers: agentHeaders(node) })).body.baseline;
      t.is(await baseline(), null);
      const stop = scheduleMaintenance(srv.db, { ...srv.config, maintenanceIntervalSeconds: 1 }, silentLogger);
      try {
        const deadline = Date.now() + 5000;
        while (!(await baseline()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
        t.like(await baseline(), { mean_pps: 200, samples: 3 });
      } finally {
        await stop();
      }
      if (kind !== 'postgres') return; // the embedded database is one session: its advisory locks are re-entrant
      const other = new pg.Client({ connectionString: url });
      await other.connect();
      try {
        await other.query('SELECT pg_advisory_lock($1)', [LOCK_KEY]);
        t.like(await runMaintenance(srv.db, srv.config), { ran: false });
        await other.query('SELECT pg_advisory_unlock($1)', [LOCK_KEY]);
        t.like(await runMaintenance(srv.db, srv.config), { ran: true });
      } finally {
        await other.end();
      }
    } finally {
      await srv.close();
      if (dir) fs.rmSync(dir, { recursive: true, force: true });
    }
  });
}

each('migrations: applied once, recorded with hashes, an edited migration is refused', async (t, srv, kind) => {
  const { rows } = await srv.db.query('SELECT id, name, hash FROM schema_migrations ORDER BY id');
  t.true(rows.length >= 1);
  t.is(rows[0].name, '001_init.sql');
  t.regex(rows[0].hash, /^[0-9a-f]{64}$/);
  t.deepEqual(await migrate(srv.db, silentLogger), []);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bw-mig-'));
  try {
    for (const f of fs.readdirSync(migrationsDir)) fs.copyFileSync(path.join(migrationsDir, f), path.join(dir, f));
    fs.appendFileSync(path.join(dir, '001_init.sql'), '\n-- edited\n');
    await t.throwsAsync(migrate(srv.db, silentLogger, dir), { message: /001_init.sql was changed after it was applied/ });
    fs.copyFileSync(path.join(migrationsDir, '001_init.sql'), path.join(dir, '001_init.sql'));
    fs.writeFileSync(path.join(dir, '999_broken.sql'), 'CREATE TABLE t_ok (x int); SELECT no_such_function();');
    await t.throwsAsync(migrate(srv.db, silentLogger, dir), { message: /999_broken.sql failed/ });
    t.is(await count(srv, "SELECT count(*) FROM pg_tables WHERE tablename = 't_ok'"), 0, 'a failed migration leaves nothing behind');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  if (kind === 'postgres') {
    // Several processes starting at once on a fresh database: each migration runs once.
    const url = await each.servers.pg!.createDatabase('concurrent_migrate');
    const dbs = await Promise.all([1, 2, 3].map(() => openDb({ databaseUrl: url, dataDir: '', poolSize: 2, log: silentLogger })));
    const applied = await Promise.all(dbs.map((db) => migrate(db, silentLogger)));
    t.is(applied.flat().length, fs.readdirSync(migrationsDir).length);
    await Promise.all(dbs.map((db) => db.close()));
  }
});

each.serial(
  'an open incident of a node silent past incidentSilenceMinutes is resolved, with the reason; a live one is not',
  async (t, srv) => {
    const { ws, node } = await setup(srv);
    const live = await srv.admin.createNode(ws.id, 'live');
    const open = async (n: { id: number }, quietMinutes: number) => {
      const { rows } = await srv.db.query(
        `INSERT INTO incidents (node_id, attack_family, severity, opened_at, updated_at)
       VALUES ($1, 'udp_flood', 'high', now() - make_interval(mins => $2), now() - make_interval(mins => $2)) RETURNING id`,
        [n.id, quietMinutes],
      );
      await srv.db.query('UPDATE nodes SET last_seen_at = now() - make_interval(mins => $2) WHERE id = $1', [n.id, quietMinutes]);
      return rows[0].id as number;
    };
    const dead = await open(node, 30);
    const alive = await open(live, 30);
    await request(srv.url, 'POST', '/api/v1/agent/heartbeat', { headers: agentHeaders(live), json: {} }); // heard from just now
    const r = await srv.runMaintenance();
    t.true(r.silentResolved >= 1);
    const status = async (id: number) => (await srv.db.query('SELECT status FROM incidents WHERE id = $1', [id])).rows[0].status;
    t.is(await status(dead), 'resolved');
    t.is(await status(alive), 'open', 'its node is heard from');
    const { rows: events } = await srv.db.query(`SELECT data FROM incident_events WHERE incident_id = $1 AND kind = 'resolved'`, [dead]);
    t.deepEqual(
      events.map((e) => e.data),
      [{ reason: 'node_silent', minutes: srv.config.incidentSilenceMinutes }],
    );
  },
);
