// The agent's client learns how far the host's clock is off the server's
// from the Date header of each reply; within a minute it counts as agreeing.
import http from 'node:http';
import test from 'ava';
import { AgentClient } from '../../../agent/http.ts';

async function serverAhead(ms: number) {
  const srv = http.createServer((_req, res) => {
    res.setHeader('Date', new Date(Date.now() + ms).toUTCString());
    res.setHeader('Content-Type', 'application/json');
    res.end('{"ok":true}');
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const port = (srv.address() as { port: number }).port;
  return { url: `http://127.0.0.1:${port}`, close: () => new Promise((r) => srv.close(r)) };
}

for (const [ahead, expected] of [
  [10 * 60_000, 10 * 60_000],
  [-3 * 3600_000, -3 * 3600_000],
  [20_000, 0],
] as const) {
  test(`a server ${ahead / 1000} s ahead: offset ${expected / 1000} s`, async (t) => {
    const s = await serverAhead(ahead);
    t.teardown(s.close);
    const c = new AgentClient({ server: s.url, nodeUuid: '00000000-0000-4000-8000-000000000000', apiKey: 'k', format: 'json' });
    await c.request('GET', '/config');
    t.true(Math.abs(c.clockOffsetMs - expected) <= 1500, `offset ${c.clockOffsetMs} ms`);
  });
}
