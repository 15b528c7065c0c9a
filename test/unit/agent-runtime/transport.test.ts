// The agent's transport (agent/transport.ts): keep-alive sockets are reused;
// a request on a reused socket that the server closed without an answer is
// sent once more on a new one, a request on a new socket is not; the whole
// request is bounded by its timeout.
import http from 'node:http';
import type { Socket } from 'node:net';
import test, { type ExecutionContext } from 'ava';
import { Transport } from '../../../agent/transport.ts';

/** A server that answers 'ok', but ends a socket without answering on the `dropOn`-th request of that socket. */
async function server(dropOn: number | null, silent = false) {
  const perSocket = new Map<Socket, number>();
  const sockets = new Set<Socket>();
  const srv = http.createServer((req, res) => {
    const n = (perSocket.get(req.socket) ?? 0) + 1;
    perSocket.set(req.socket, n);
    req.resume();
    req.on('end', () => {
      if (silent) return;
      if (n === dropOn) req.socket.destroy();
      else res.end(`ok ${req.method} ${n}`);
    });
  });
  srv.on('connection', (s) => sockets.add(s));
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const url = `http://127.0.0.1:${(srv.address() as { port: number }).port}/x`;
  return {
    url,
    sockets,
    close: () => {
      for (const s of sockets) s.destroy();
      return new Promise((r) => srv.close(r));
    },
  };
}

const post = (t: Transport, url: string, timeoutMs = 2000) =>
  t.send(url, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'hi', timeoutMs });

/** The server and a transport to it, both closed when the test ends. */
async function rig(t: ExecutionContext, dropOn: number | null, silent = false) {
  const s = await server(dropOn, silent);
  const tr = new Transport(s.url);
  t.teardown(() => {
    tr.close();
    return s.close();
  });
  return { s, tr };
}

test('keep-alive: the second request goes on the first one socket', async (t) => {
  const { s, tr } = await rig(t, null);
  t.is((await post(tr, s.url)).body.toString(), 'ok POST 1');
  t.is((await post(tr, s.url)).body.toString(), 'ok POST 2');
  t.is(s.sockets.size, 1);
});

test('a reused socket the server ends without an answer: sent once more on a new socket', async (t) => {
  const { s, tr } = await rig(t, 2);
  await post(tr, s.url);
  const again = await post(tr, s.url);
  t.is(again.status, 200);
  t.is(again.body.toString(), 'ok POST 1', 'answered on a new socket');
  t.is(s.sockets.size, 2);
});

test('a new socket ended without an answer is an error, not sent again', async (t) => {
  const { s, tr } = await rig(t, 1);
  await t.throwsAsync(post(tr, s.url));
  t.is(s.sockets.size, 1);
});

test('the whole request is bounded by its timeout', async (t) => {
  const { s, tr } = await rig(t, null, true);
  const t0 = performance.now();
  const e = await t.throwsAsync(post(tr, s.url, 200));
  const took = performance.now() - t0;
  t.regex(e!.message, /no answer in 200 ms/);
  t.true(took >= 190 && took < 1000, `${took.toFixed(0)} ms`);
});
