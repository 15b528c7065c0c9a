// The agent's HTTP transport: CPU per call of the AgentClient (agent/http.ts)
// through its transport (agent/transport.ts, Node's http client) and through
// fetch, side by side in one process against a local server that answers
// like the agent API (a small JSON body, a Date header), each measurement
// in a fresh child process, alternating. Cold: the first 50 calls, as an
// agent makes them (a few a second, so its code stays in the interpreter);
// warm: the next 2,000. The CPU is the child's (client and server both); the
// server's share is the same for the two, so the difference is the client's.
//
//   npm run bench:transport            BENCH_CALLS=2000 BENCH_ROUNDS=3
import { execFileSync } from 'node:child_process';
import http from 'node:http';
import os from 'node:os';
import { Transport } from '../agent/transport.ts';

const CALLS = Number(process.env.BENCH_CALLS ?? 2000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const COLD = 50;

const srv = http.createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    res.setHeader('content-type', 'application/json');
    res.setHeader('date', new Date().toUTCString());
    res.end('{"id":1,"status":"applied"}');
  });
});
await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
srv.unref();
const url = `http://127.0.0.1:${(srv.address() as { port: number }).port}/api/v1/agent/commands/1/ack`;
const headers = { authorization: 'Bearer k', 'x-node-uuid': '00000000-0000-4000-8000-000000000000', 'content-type': 'application/json' };
const body = JSON.stringify({ status: 'applied' });

type Call = () => Promise<unknown>;
const viaTransport =
  (t: Transport): Call =>
  async () =>
    JSON.parse((await t.send(url, { method: 'POST', headers, body, timeoutMs: 5000 })).body.toString());
const viaFetch: Call = async () => (await fetch(url, { method: 'POST', headers, body, signal: AbortSignal.timeout(5000) })).json();

/** CPU ms per call over n calls. */
async function cpuPerCall(call: Call, n: number): Promise<number> {
  const c0 = process.cpuUsage();
  for (let i = 0; i < n; i++) await call();
  const c = process.cpuUsage(c0);
  return (c.user + c.system) / 1000 / n;
}

const child = process.argv[2];
if (child) {
  const t = new Transport(url);
  const call = child === 'fetch' ? viaFetch : viaTransport(t);
  console.log(JSON.stringify({ cold: await cpuPerCall(call, COLD), warm: await cpuPerCall(call, CALLS) }));
  t.close();
  srv.close();
  process.exit(0);
}
srv.close();
const rows: Record<string, { cold: number[]; warm: number[] }> = { transport: { cold: [], warm: [] }, fetch: { cold: [], warm: [] } };
for (let r = 0; r < ROUNDS; r++) {
  for (const name of r % 2 ? ['fetch', 'transport'] : ['transport', 'fetch']) {
    const out = execFileSync(process.execPath, [...process.execArgv, import.meta.filename, name], { encoding: 'utf8' });
    const m = JSON.parse(out.trim().split('\n').at(-1)!) as { cold: number; warm: number };
    rows[name]!.cold.push(m.cold);
    rows[name]!.warm.push(m.warm);
  }
}
const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
console.log(`\nbench:transport: CPU per agent-API call, ${ROUNDS} rounds alternating; ${os.cpus()[0]?.model}, Node ${process.version}\n`);
console.log(`| transport | first ${COLD} calls (cold), ms CPU | next ${CALLS} (warm), ms CPU |`);
console.log('| --- | --- | --- |');
for (const [name, v] of Object.entries(rows))
  console.log(
    `| ${name === 'fetch' ? 'fetch (undici)' : 'agent/transport.ts (node:http)'} | ${med(v.cold).toFixed(3)} | ${med(v.warm).toFixed(3)} |`,
  );
console.log(
  `\nfetch / transport: cold ${(med(rows.fetch!.cold) / med(rows.transport!.cold)).toFixed(1)}x, warm ${(med(rows.fetch!.warm) / med(rows.transport!.warm)).toFixed(1)}x`,
);
