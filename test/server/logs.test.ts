// No secret reaches a log line, however a client spells it: a token in the
// query string (?token=, ?%74oken=, ?TOKEN=, twice, in another parameter),
// pasted into the path, or sent as a credential on a request that fails or
// errs; node keys alike. The server logs at debug (every request and every
// statement) into a sink the test reads.
import fs from 'node:fs';
import test from 'ava';
import { startServer } from '../../server/index.ts';
import { createLogger } from '../../server/log.ts';
import { splitToken } from '../../server/secrets.ts';
import { agentHeaders, bearer, request } from '../helpers/http.ts';
import { freshDataDir } from './_harness.ts';

test('tokens and keys never appear in a log line', async (t) => {
  const lines: string[] = [];
  const dir = await freshDataDir();
  const srv = await startServer({
    port: 0,
    host: '127.0.0.1',
    dataDir: dir,
    maintenanceIntervalSeconds: 0,
    log: createLogger('debug', (l) => lines.push(l)),
  });
  t.teardown(async () => {
    await srv.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  const ws = await srv.admin.createWorkspace('logs');
  const node = await srv.admin.createNode(ws.id, 'n');
  const tok = encodeURIComponent(ws.token);
  const spelled = [
    `?token=${tok}`,
    `?%74oken=${tok}`,
    `?TOKEN=${tok}`,
    `?x=1&token=${tok}&token=${tok}`,
    `?q=${tok}`,
    `?token=${tok}#frag`,
  ];
  for (const q of spelled) {
    await request(srv.url, 'GET', `/api/metrics${q}`);
    await request(srv.url, 'GET', `/api/v1/nodes${q}`);
    await request(srv.url, 'POST', `/api/v1/agent/metrics${q}`, { headers: agentHeaders(node), json: { pps: 1, bps: 1 } });
  }
  await request(srv.url, 'GET', `/api/v1/${tok}`, { headers: bearer(ws.token) });
  await request(srv.url, 'GET', `/api/v1/agent/${node.key}`, { headers: agentHeaders(node) });
  await request(srv.url, 'POST', '/api/v1/agent/heartbeat', { headers: agentHeaders({ uuid: node.uuid, key: `${node.key}x` }), json: {} });
  await request(srv.url, 'POST', '/api/v1/nodes', { headers: bearer(ws.token), json: { name: ws.token } });
  t.is(
    (await request(srv.url, 'GET', `/api/metrics?%74oken=${tok}`)).status,
    200,
    'a spelled token still authenticates: only its logging was the problem',
  );
  const secrets = [ws.token, splitToken(ws.token)!.secret, node.key, tok];
  t.true(lines.length > 50, `${lines.length} lines logged`);
  t.true(
    lines.some((l) => l.includes('"url":"/api/metrics"')),
    'requests are logged, by their path',
  );
  for (const line of lines) for (const s of secrets) t.false(line.includes(s), `a secret in: ${line.slice(0, 200)}`);
});
