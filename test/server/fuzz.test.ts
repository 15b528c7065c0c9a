// Property: whatever a client sends to any route (bodies in JSON, MessagePack
// or neither, query strings, path segments, headers), the server answers
// below 500, and a refused request (4xx) changes nothing in the database.
// Run on both databases; the count of requests is printed.
import http from 'node:http';
import test from 'ava';
import fc from 'fast-check';
import type { RunningServer } from '../../server/index.ts';
import { pcap } from '../helpers/captures.ts';
import { query, wireBody, wireText } from '../helpers/fuzz.ts';
import { withServers } from './_harness.ts';

const RUNS = Number(process.env.FUZZ_RUNS ?? 1000);
const each = withServers(test);

const TABLES = [
  'workspaces',
  'tokens',
  'nodes',
  'incidents',
  'incident_events',
  'pcaps',
  'pcap_chunks',
  'mitigation_rules',
  'node_commands',
  'metrics_raw',
  'metrics_minute',
  'node_last_sample',
  'baselines',
  'response_policies',
  'policy_firings',
  'node_kernel_rules',
];
/** One hash of every row of every table. */
const digestSql = `SELECT ${TABLES.map((t) => `(SELECT md5(coalesce(string_agg(x::text, '|' ORDER BY x::text), '')) FROM ${t} x)`).join(' || ')} AS d`;
const digest = async (srv: RunningServer) => (await srv.db.query<{ d: string }>(digestSql)).rows[0]!.d;

function send(srv: RunningServer, method: string, path: string, headers: Record<string, string>, body?: Buffer) {
  return new Promise<number>((resolve, reject) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port: srv.port,
        method,
        path,
        headers: { ...headers, ...(body ? { 'content-length': String(body.length) } : {}) },
      },
      (res) => {
        res.resume().on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** A multipart upload: the SPEC form with nasty fields, or a broken one. */
const multipart = fc
  .tuple(fc.constantFrom('b0undary', ''), wireText, fc.constantFrom('file', 'other'), fc.boolean(), fc.uint8Array({ maxLength: 200 }))
  .map(([boundary, id, name, valid, junk]) => {
    const file = valid ? pcap(2) : Buffer.from(junk);
    const parts = Buffer.concat([
      Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="incident_id"\r\n\r\n${decodeURIComponentSafe(id)}\r\n`),
      Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${name}"; filename="a.pcap"\r\n\r\n`),
      file,
      Buffer.from(`\r\n--${boundary}--\r\n`),
    ]);
    return { type: boundary ? `multipart/form-data; boundary=${boundary}` : 'multipart/form-data', body: parts };
  });
function decodeURIComponentSafe(s: string) {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

each('no request gets a 5xx, and a refused one writes nothing', async (t, srv) => {
  const ws = await srv.admin.createWorkspace(`fuzz-${Math.random().toString(36).slice(2, 8)}`);
  const node = await srv.admin.createNode(ws.id, 'fuzz-node', { ip: '198.18.77.1' });
  const victim = await srv.admin.createNode(ws.id, 'victim', { ip: '198.18.77.2' });
  const spare = await srv.admin.createToken(ws.id, 'spare');
  const {
    rows: [inc],
  } = await srv.db.query(`INSERT INTO incidents (node_id, attack_family, severity) VALUES ($1, 'udp_flood', 'low') RETURNING id`, [
    node.id,
  ]);
  const rule = (await fetch(`${srv.url}/api/v1/mitigations`, {
    method: 'POST',
    headers: { authorization: `Bearer ${ws.token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ node_id: node.id, source: '198.19.0.0/16', ttl_seconds: 600 }),
  }).then((r) => r.json())) as { id: number };
  const {
    rows: [cmd],
  } = await srv.db.query('SELECT id FROM node_commands WHERE rule_id = $1', [rule.id]);
  // Real ids reach the handlers' own checks; never the ids of the node and token the requests authenticate with.
  const {
    rows: [own],
  } = await srv.db.query('SELECT min(id) AS id FROM tokens WHERE workspace_id = $1', [ws.id]);
  const real = [victim.id, inc.id, rule.id, cmd.id, spare.id].filter((id) => id !== node.id && id !== own.id).map(String);
  const ids = fc.oneof(
    fc.constantFrom(...real),
    wireText.filter((x) => x !== String(node.id) && x !== String(own.id)),
  );
  const agent = { authorization: `Bearer ${node.key}`, 'x-node-uuid': node.uuid };
  const user = { authorization: `Bearer ${ws.token}` };
  const auth = (good: Record<string, string>) =>
    fc.oneof(
      { weight: 6, arbitrary: fc.constant(good) },
      {
        weight: 1,
        arbitrary: fc
          .string({ unit: fc.constantFrom(...'abcdefXYZ0123456789_-+/= '.split('')), maxLength: 60 })
          .map((s) => ({ ...good, authorization: `Bearer ${s}` })),
      },
      { weight: 1, arbitrary: fc.constant({}) },
    );
  const now = new Date().toISOString();
  const sample = { pps: 10, bps: 80, tcp_pct: 50, udp_pct: 40, icmp_pct: 10, conn_count: 3, recorded_at: now };
  const report = {
    attack_family: 'udp_flood',
    severity: 'high',
    peak_pps: 1,
    top_src_ips: [{ ip: '198.19.0.1', count: 1 }],
    geo_breakdown: { US: 1 },
    ioc_matches: [],
  };
  const policy = {
    name: 'p',
    conditions: { families: ['syn_flood'], min_pps: 10 },
    action: { type: 'drop_top_sources', protocol: 'tcp' },
    scope: 'node',
    ttl_seconds: 60,
    max_rules: 4,
  };
  const kernel = {
    rules: [
      { source: '198.19.0.0/16', mode: 'drop', expires_at: now, origin: 'command', rule_id: rule.id, packets: 5, bytes: 300 },
      { source: '::/0', protocol: 'icmp', icmp_type: 128, mode: 'log', expires_at: null, origin: 'local', packets: 0, bytes: 0 },
    ],
    kill_switch: false,
    attached: true,
    xdp_mode: 'native',
  };
  type Req = { method: string; path: string; headers: Record<string, string>; body?: Buffer };
  const route = (
    method: string,
    path: fc.Arbitrary<string>,
    headers: fc.Arbitrary<Record<string, string>>,
    body?: fc.Arbitrary<{ type: string; body: Buffer }>,
  ): fc.Arbitrary<Req> =>
    fc
      .tuple(path, headers, body ?? fc.constant(undefined))
      .map(([p, h, b]) => ({ method, path: p, headers: b ? { ...h, 'content-type': b.type } : h, body: b?.body }));
  const A = '/api/v1/agent',
    U = '/api/v1';
  const at = (prefix: string, suffix = '') => ids.map((id) => `${prefix}/${id}${suffix}`);
  const requests: fc.Arbitrary<Req> = fc.oneof(
    route('POST', fc.constant(`${A}/heartbeat`), auth(agent), wireBody({ agent_version: '0.1.0', uptime: 5, os: 'Debian' })),
    route('POST', fc.constantFrom(`${A}/metrics`, `${A}/metrics?via=koa`), auth(agent), wireBody(sample)),
    route('POST', fc.constant(`${A}/metrics`), auth(agent), wireBody({ samples: [sample, sample] })),
    route('POST', fc.constant(`${A}/incident`), auth(agent), wireBody({ ...report, incident_id: inc.id })),
    route('POST', fc.constant(`${A}/incident/resolve`), auth(agent), wireBody({ incident_id: inc.id })),
    route('POST', fc.constant(`${A}/pcap`), auth(agent), multipart),
    route(
      'GET',
      query(['x']).map((q) => `${A}/config${q}`),
      auth(agent),
    ),
    route('POST', at(`${A}/commands`, '/ack'), auth(agent), wireBody({ status: 'failed', reason: 'no' })),
    route('POST', fc.constant(`${A}/commands/ack`), auth(agent), wireBody({ acks: [{ id: 1, status: 'failed', reason: 'no' }] })),
    route('POST', fc.constant(`${A}/rules`), auth(agent), wireBody(kernel)),
    route('PATCH', fc.constant(`${U}/workspace`), auth(user), wireBody({ name: 'w', default_pps_threshold: 100, ioc_patterns: [] })),
    route('POST', fc.constant(`${U}/tokens`), auth(user), wireBody({ name: 't' })),
    route('DELETE', at(`${U}/tokens`), auth(user)),
    route('POST', fc.constant(`${U}/nodes`), auth(user), wireBody({ name: 'n', ip: '198.18.77.9', pps_threshold: 1000 })),
    route(
      'GET',
      fc.oneof(at(`${U}/nodes`), at(`${U}/nodes`, '/rules'), at(`${U}/incidents`), at(`${U}/mitigations`), at(`${U}/pcaps`)),
      auth(user),
    ),
    route('DELETE', at(`${U}/nodes`), auth(user)),
    route('POST', fc.oneof(at(`${U}/nodes`, '/key'), at(`${U}/mitigations`, '/withdraw')), auth(user), wireBody({})),
    route('PUT', at(`${U}/nodes`, '/threshold'), auth(user), wireBody({ pps_threshold: 5000 })),
    route('POST', fc.constant(`${U}/policies`), auth(user), wireBody(policy)),
    route('PATCH', at(`${U}/policies`), auth(user), wireBody({ max_rules: 3, conditions: { min_severity: 'high' } })),
    route('GET', fc.oneof(fc.constant(`${U}/policies`), at(`${U}/policies`)), auth(user)),
    route('DELETE', at(`${U}/policies`), auth(user)),
    route(
      'GET',
      fc.tuple(ids, query(['from', 'to', 'resolution', 'limit'])).map(([id, q]) => `${U}/nodes/${id}/metrics${q}`),
      auth(user),
    ),
    route(
      'GET',
      query(['node_id', 'status', 'severity', 'attack_family', 'since', 'until', 'before', 'limit']).map((q) => `${U}/incidents${q}`),
      auth(user),
    ),
    route(
      'GET',
      query(['state', 'before', 'limit']).map((q) => `${U}/mitigations${q}`),
      auth(user),
    ),
    route(
      'POST',
      fc.constant(`${U}/mitigations`),
      auth(user),
      wireBody({ node_id: node.id, source: '198.19.5.0/24', protocol: 'udp', port: 53, ttl_seconds: 60, reason: 'r' }),
    ),
    route(
      'GET',
      fc.oneof(
        query(['token']).map((q) => `/api/metrics${q}`),
        wireText.map((p) => `/${p}`),
        fc.constant('/healthz'),
      ),
      auth(user),
    ),
  );
  let n = 0;
  const statuses = new Map<number, number>();
  await fc.assert(
    fc.asyncProperty(requests, async (r) => {
      await srv.responder.idle(); // what an earlier accepted report set off
      const before = await digest(srv);
      const status = await send(srv, r.method, r.path, r.headers, r.body);
      n++;
      statuses.set(status, (statuses.get(status) ?? 0) + 1);
      if (status >= 500) throw new Error(`${r.method} ${r.path} answered ${status}`);
      if (status >= 400 && (await digest(srv)) !== before)
        throw new Error(`${r.method} ${r.path} was refused (${status}) but changed the database`);
    }),
    { numRuns: RUNS },
  );
  t.log(`${n} requests, none 5xx; statuses ${JSON.stringify(Object.fromEntries([...statuses].sort((a, b) => a[0] - b[0])))}`);
  t.true((statuses.get(200) ?? 0) + (statuses.get(201) ?? 0) > RUNS / 10, 'enough requests were valid to reach the handlers');
  t.true([...statuses.keys()].filter((s) => s >= 400).length >= 5, 'many kinds of refusal');
});
