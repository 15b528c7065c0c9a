// The `breakwater` CLI as a user runs it (a child process): admin commands,
// then the server, an agent call and a ?token= scrape; the logs are JSON and
// hold neither the token nor the node key. Both databases.
import { execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import test from 'ava';
import { SETTINGS } from '../../server/config.ts';
import { splitToken } from '../../server/secrets.ts';
import { agentHeaders, request } from '../helpers/http.ts';
import { canRunPostgres, startPostgres } from '../helpers/postgres.ts';
import { requireOrSkip } from '../helpers/privileged.ts';
import { freshDataDir } from './_harness.ts';

const cli = new URL('../../scripts/breakwater.mjs', import.meta.url).pathname;
const run = promisify(execFile);

async function scenario(t: import('ava').ExecutionContext, db: string[]) {
  const env = { ...process.env, DATABASE_URL: '', LOG_LEVEL: 'debug' };
  const ws = JSON.parse((await run('node', [cli, 'workspace', 'create', '--name', 'demo', ...db], { env })).stdout);
  const node = JSON.parse(
    (await run('node', [cli, 'node', 'create', '--workspace', ws.uuid, '--name', 'edge-1', '--ip', '192.0.2.1', ...db], { env })).stdout,
  );
  t.regex(ws.token, /^bwt_/);
  t.regex(node.uuid, /^[0-9a-f-]{36}$/);
  const token = JSON.parse(
    (await run('node', [cli, 'token', 'create', '--workspace', String(ws.id), '--name', 'grafana', ...db], { env })).stdout,
  );
  t.regex(token.token, /^bwt_/);
  // Response policies from a JSON file, checked as the user API checks them.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bw-cli-policy-'));
  const good = path.join(dir, 'good.json'),
    wrong = path.join(dir, 'wrong.json');
  fs.writeFileSync(
    good,
    JSON.stringify({ name: 'tcp floods', conditions: { families: ['syn_flood'] }, action: { type: 'drop_top_sources' } }),
  );
  fs.writeFileSync(wrong, JSON.stringify({ name: 'x', action: { type: 'drop_top_sources' }, max_rules: 0 }));
  const policy = JSON.parse((await run('node', [cli, 'policy', 'create', '--workspace', ws.uuid, '--file', good, ...db], { env })).stdout);
  t.like(policy, { name: 'tcp floods', enabled: true, max_rules: 32 });
  const refused = await run('node', [cli, 'policy', 'create', '--workspace', ws.uuid, '--file', wrong, ...db], { env }).catch((e) => e);
  t.is(refused.code, 1);
  t.regex(refused.stderr, /breakwater: max_rules: /);
  const listed = (await run('node', [cli, 'policy', 'list', '--workspace', String(ws.id), ...db], { env })).stdout.trim().split('\n');
  t.deepEqual(
    listed.map((l) => JSON.parse(l).id),
    [policy.id],
  );
  fs.rmSync(dir, { recursive: true, force: true });
  // The kill switch: the node's, then the workspace's; the agent's config below says it is on.
  const killSwitch = async (...args: string[]) =>
    JSON.parse((await run('node', [cli, 'kill-switch', ...args, '--workspace', ws.uuid, ...db], { env })).stdout);
  t.deepEqual(await killSwitch('on', '--node', String(node.id)), { workspace: ws.id, node: node.id, kill_switch: true });
  t.deepEqual(await killSwitch('off', '--node', String(node.id)), { workspace: ws.id, node: node.id, kill_switch: false });
  t.deepEqual(await killSwitch('on'), { workspace: ws.id, kill_switch: true });
  const noNode = await run('node', [cli, 'kill-switch', 'on', '--workspace', ws.uuid, '--node', '424242', ...db], { env }).catch((e) => e);
  t.is(noNode.code, 1);
  t.regex(noNode.stderr, /breakwater: no node 424242 in workspace/);
  const bad = await run('node', [cli, 'node', 'create', '--workspace', '424242', '--name', 'x', ...db], { env }).catch((e) => e);
  t.is(bad.code, 1);
  // One line says why (LOG_LEVEL=debug adds the statements' text before it, never their parameters).
  t.regex(bad.stderr, /(^|\n)breakwater: no workspace 424242\n$/);
  t.false(bad.stderr.includes(ws.token) || bad.stderr.includes(node.key), 'no secret in the output');

  const child = spawn('node', [cli, 'server', '--port', '0', '--host', '127.0.0.1', ...db], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let logs = '';
  child.stderr.on('data', (c) => (logs += c));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  try {
    const port = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`server did not start:\n${logs}`)), 30_000);
      child.stderr.on('data', () => {
        const m = /"msg":"server listening","port":(\d+)/.exec(logs);
        if (m) {
          clearTimeout(timer);
          resolve(Number(m[1]));
        }
      });
    });
    const url = `http://127.0.0.1:${port}`;
    t.is((await request(url, 'POST', '/api/v1/agent/metrics', { headers: agentHeaders(node), json: { pps: 5, bps: 40 } })).status, 200);
    t.is(
      (await request(url, 'GET', '/api/v1/agent/config', { headers: agentHeaders(node) })).body.kill_switch,
      true,
      'the workspace kill switch from the CLI',
    );
    const m = await request(url, 'GET', `/api/metrics?token=${ws.token}`);
    t.is(m.status, 200);
    t.regex(m.body, /breakwater_node_pps\{[^}]*node="edge-1"[^}]*\} 5/);
    t.is((await request(url, 'GET', '/api/v1/nodes', { headers: { authorization: `Bearer ${token.token}` } })).status, 200);
  } finally {
    child.kill('SIGTERM');
  }
  t.is(await exited, 0);
  const lines = logs.trim().split('\n');
  for (const l of lines) t.notThrows(() => JSON.parse(l), l);
  t.true(
    lines.some((l) => l.includes('/api/metrics')),
    'the ?token= scrape is logged (without its token)',
  );
  t.false(logs.includes(splitToken(ws.token)!.secret), 'token secret in the logs');
  t.false(logs.includes(node.key), 'node key in the logs');
  t.true(lines.some((l) => JSON.parse(l).msg === 'server stopped'));
}

test('CLI on the embedded database', async (t) => {
  const dir = await freshDataDir();
  try {
    await scenario(t, ['--data-dir', dir]);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

if (requireOrSkip(test, canRunPostgres)) {
  test('CLI on PostgreSQL', async (t) => {
    const pg = await startPostgres();
    try {
      await scenario(t, ['--database-url', pg.url]);
    } finally {
      await pg.stop();
    }
  });
}

test('CLI: bad settings and flags are one line on stderr and exit 2, before any database is touched', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bw-cli-config-'));
  const file = (name: string, text: string) => {
    fs.writeFileSync(path.join(dir, name), text);
    return path.join(dir, name);
  };
  const wrongType = file('wrong-type.json', '{ "onlineSeconds": "soon" }');
  const unknown = file('unknown.json', '{ "onlineSecs": 30 }');
  const broken = file('broken.json', '{ "port": 80');
  const cases: [string[], NodeJS.ProcessEnv, RegExp][] = [
    [['server', '--port', 'abc'], {}, /^breakwater: --port: port must be an integer in 0\.\.65535, got "abc"\n$/],
    [['server', '--port', '70000'], {}, /^breakwater: --port: port must be an integer in 0\.\.65535, got "70000"\n$/],
    [['server'], { BREAKWATER_POOL_SIZE: 'many' }, /^breakwater: BREAKWATER_POOL_SIZE: poolSize must be an integer >= 1, got "many"\n$/],
    [
      ['server', '--raw-retention-hours', '0'],
      {},
      /^breakwater: --raw-retention-hours: rawRetentionHours must be an integer >= 1, got "0"\n$/,
    ],
    [['server', '--log-level', 'loud'], {}, /^breakwater: --log-level: logLevel must be one of debug, info, warn, error, got "loud"\n$/],
    [
      ['server', '--metric-prefix', '9x'],
      {},
      /^breakwater: --metric-prefix: metricPrefix must be a Prometheus name prefix .*, got "9x"\n$/,
    ],
    // Documented and in --help, but refused by the old flag parser:
    [['server', '--online-seconds', '0'], {}, /^breakwater: --online-seconds: onlineSeconds must be an integer >= 1, got "0"\n$/],
    [['server', '--online-seconds=30', '--port', 'x'], {}, /^breakwater: --port: /],
    [
      ['server', '--config', wrongType],
      {},
      new RegExp(`^breakwater: config file ${wrongType}: onlineSeconds must be an integer >= 1, got "soon"\n$`),
    ],
    [['server'], { BREAKWATER_SERVER_CONFIG: unknown }, new RegExp(`^breakwater: config file ${unknown}: unknown key 'onlineSecs'\n$`)],
    [['workspace', 'create', '--name', 'x', '--config', broken], {}, /^breakwater: config file .*broken\.json: [^\n]*JSON[^\n]*\n$/],
    [['server', '--config', path.join(dir, 'none.json')], {}, /^breakwater: config file .*none\.json: ENOENT[^\n]*\n$/],
    [
      ['node', 'create', '--workspace', '1', '--name', 'x', '--pps-threshold', 'abc'],
      {},
      /^breakwater: --pps-threshold: ppsThreshold must be an integer in 1\.\.999999999999999, got "abc"\n$/,
    ],
    [['node', 'create', '--name', 'x'], {}, /^breakwater: node create needs --workspace\n$/],
    [['workspace', 'create', '--name', 'x', '--ip', '192.0.2.1'], {}, /^breakwater: workspace create takes no --ip\n$/],
    [['server', '--nope'], {}, /^breakwater: unknown option --nope \(see --help\)\n$/],
    [['frob'], {}, /^breakwater: unknown command 'frob': [^\n]+\n$/],
  ];
  // A data dir that does not exist: a command that got as far as the database would create it.
  const never = `/tmp/bw-cli-never-${process.pid}`;
  const check = async ([args, extra, message]: (typeof cases)[number]) => {
    const r = await run('node', [cli, ...args, '--data-dir', never], {
      env: { ...process.env, DATABASE_URL: '', BREAKWATER_SERVER_CONFIG: '', ...extra },
    }).catch((e) => e);
    t.is(r.code, 2, args.join(' '));
    t.regex(r.stderr, message, args.join(' '));
  };
  try {
    for (let n = 0; n < cases.length; n += 4) await Promise.all(cases.slice(n, n + 4).map(check));
    t.false(fs.existsSync(never));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('CLI: --help lists every setting, the admin flags and the config file', async (t) => {
  const { stdout } = await run('node', [cli, '--help'], { env: { ...process.env, BREAKWATER_SERVER_CONFIG: '' } });
  for (const [key, spec] of Object.entries(SETTINGS))
    t.true(stdout.includes(`  --${spec.flag} `) && stdout.includes(`Env: ${spec.env}. File key: ${key}.`), key);
  for (const flag of ['--name NAME', '--workspace ID', '--ip IP', '--pps-threshold N', '--config FILE'])
    t.true(stdout.includes(`  ${flag}\n`), flag);
  t.true(stdout.includes('Env: BREAKWATER_SERVER_CONFIG.'));
});
