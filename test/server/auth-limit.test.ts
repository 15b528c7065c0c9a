// Failed authentications are limited per client address: past the limit a
// failure is 429 with Retry-After instead of 401, on agent routes (the Koa
// routes and the hot metrics path), user routes and /api/metrics alike; valid
// node keys and user tokens sent from the same address keep working, also
// ones the server has never seen before.
import test from 'ava';
import { FailureLimiter } from '../../server/auth-limit.ts';
import { agentHeaders, bearer, request } from '../helpers/http.ts';
import { setup, withServers } from './_harness.ts';

const LIMIT = 5;
const each = withServers(test, { authFailuresPerMinute: LIMIT });

each('past the limit a failure is 429 with Retry-After; valid keys and tokens still pass', async (t, srv) => {
  const { ws, node } = await setup(srv);
  const wrong = agentHeaders({ uuid: node.uuid, key: 'x'.repeat(43) });
  for (let i = 0; i < LIMIT; i++) {
    t.is((await request(srv.url, 'POST', '/api/v1/agent/heartbeat', { headers: wrong, json: {} })).status, 401, `failure ${i + 1}`);
  }
  const calls: [string, string, Record<string, string>][] = [
    ['POST', '/api/v1/agent/heartbeat', wrong],
    ['POST', '/api/v1/agent/metrics', wrong],
    ['POST', '/api/v1/agent/metrics?via=koa', wrong],
    ['GET', '/api/v1/nodes', bearer(`${ws.token}x`)],
    ['GET', '/api/metrics', bearer('not-a-token')],
  ];
  for (const [method, path, headers] of calls) {
    const r = await request(srv.url, method, path, { headers, json: method === 'POST' ? { pps: 1, bps: 1 } : undefined });
    t.is(r.status, 429, `${method} ${path}`);
    t.is(r.body.error.code, 'too_many_requests');
    const after = Number(r.headers.get('retry-after'));
    t.true(after >= 1 && after <= 60, `Retry-After ${after}`);
  }
  // Someone else's failures lock nobody out: a valid key (also one never used before) and a valid token pass.
  const fresh = await srv.admin.createNode(ws.id, 'never-seen');
  t.is((await request(srv.url, 'POST', '/api/v1/agent/heartbeat', { headers: agentHeaders(node), json: {} })).status, 200);
  t.is((await request(srv.url, 'POST', '/api/v1/agent/metrics', { headers: agentHeaders(fresh), json: { pps: 1, bps: 1 } })).status, 200);
  t.is((await request(srv.url, 'GET', '/api/v1/nodes', { headers: bearer(ws.token) })).status, 200);
  t.is((await request(srv.url, 'GET', '/api/metrics', { headers: bearer(ws.token) })).status, 200);
});

test('the limiter: per address (IPv6 by /64), a fixed window, and back to 401 after it', (t) => {
  let now = 0;
  const l = new FailureLimiter({ max: 2, windowMs: 1000 }, () => now);
  l.fail('198.18.0.1');
  t.is(l.blockedFor('198.18.0.1'), 0);
  l.fail('::ffff:198.18.0.1');
  t.is(l.blockedFor('198.18.0.1'), 1000, 'IPv4-mapped is the same client');
  t.is(l.blockedFor('198.18.0.2'), 0, 'another address is not limited');
  l.fail('2001:db8:1:2:3::1');
  l.fail('2001:db8:1:2:ffff::9');
  t.true(l.blockedFor('2001:db8:1:2::77') > 0, 'the same /64');
  t.is(l.blockedFor('2001:db8:1:3::1'), 0, 'another /64');
  t.is(FailureLimiter.keyOf('2001:db8::1'), '2001:db8::/64');
  now = 999;
  t.is(l.blockedFor('198.18.0.1'), 1);
  now = 1000;
  t.is(l.blockedFor('198.18.0.1'), 0, 'the window is over');
});
