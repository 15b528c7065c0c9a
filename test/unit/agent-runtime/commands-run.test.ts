// The command runner (agent/commands-run.ts): a batch goes into the kernel as
// soon as the batch before it is in the kernel, not once that batch's acks
// are answered; a batch's answers go in one request (POST /commands/ack); to
// a server without it (404), one request per command, at most 16 in flight
// over all batches; a failed ack rejects its batch's run and the command
// comes back.
import test from 'ava';
import { CommandRunner } from '../../../agent/commands-run.ts';
import { type AgentClient, HttpError } from '../../../agent/http.ts';
import type { Logger } from '../../../agent/log.ts';
import type { Outcome, PendingCommand } from '../../../agent/rules.ts';

const log = { info() {}, warn() {}, error() {}, debug() {} } as unknown as Logger;
const cmd = (id: number): PendingCommand => ({ id, command: `iptables -I INPUT -s 198.18.0.${id} -j DROP` });

/** A server whose acks wait until released; counts those in flight. `batch: false`: an older server (404 to POST /commands/ack). */
function slowServer(o: { batch: boolean } = { batch: true }) {
  const held: { path: string; body: any; release: (ok: boolean) => void }[] = [];
  let inFlight = 0,
    most = 0;
  const client = {
    request: (_m: string, path: string, body: unknown) => {
      if (path === '/commands/ack' && !o.batch) return Promise.reject(new HttpError(404, 'POST /commands/ack: 404 not found'));
      return new Promise((resolve, reject) => {
        most = Math.max(most, ++inFlight);
        held.push({
          path,
          body,
          release: (ok) => {
            inFlight--;
            if (ok) resolve({});
            else reject(new HttpError(400, 'no'));
          },
        });
      });
    },
  } as unknown as AgentClient;
  return { client, held, most: () => most };
}

function runner(client: AgentClient, applied: number[]) {
  const stats = { commandsApplied: 0, commandsFailed: 0 };
  const apply = (c: PendingCommand): Outcome => {
    applied.push(c.id);
    return { id: c.id, status: 'applied', rule: { source: { family: 4, address: '', length: 32, cidr: '', bytes: [] } } as never };
  };
  return new CommandRunner({ client, log, prepare: async () => {}, apply, stats });
}

const tick = () => new Promise((r) => setImmediate(r));

test("the second batch is in the kernel while the first one's acks are still unanswered; each batch's answers in one request", async (t) => {
  const s = slowServer();
  const applied: number[] = [];
  const r = runner(s.client, applied);
  const first = r.run([cmd(1), cmd(2)]);
  const second = r.run([cmd(3)]);
  await tick();
  await tick();
  t.deepEqual(applied, [1, 2, 3], 'all three applied, in order');
  t.deepEqual(
    s.held.map((h) => [h.path, h.body.acks.map((a: any) => `${a.id} ${a.status}`)]),
    [
      ['/commands/ack', ['1 applied', '2 applied']],
      ['/commands/ack', ['3 applied']],
    ],
  );
  for (const h of s.held) h.release(true);
  await Promise.all([first, second]);
});

test('a refused batch rejects its run only, and its commands come back', async (t) => {
  const s = slowServer();
  const applied: number[] = [];
  const r = runner(s.client, applied);
  const a = r.run([cmd(1)]);
  const b = r.run([cmd(2)]);
  await tick();
  await tick();
  s.held[0]!.release(true);
  s.held[1]!.release(false);
  await t.notThrowsAsync(a);
  await t.throwsAsync(b, { instanceOf: HttpError });
  // Answered: not applied again; refused: applied again when the config lists it.
  const again = r.run([cmd(1), cmd(2)]);
  await tick();
  await tick();
  t.deepEqual(applied, [1, 2, 2]);
  s.held[2]!.release(true);
  await again;
});

test('an older server (404 to the batch): one ack per command, at most 16 in flight over all batches; a refused ack rejects its run only', async (t) => {
  const s = slowServer({ batch: false });
  const applied: number[] = [];
  const r = runner(s.client, applied);
  const a = r.run(Array.from({ length: 20 }, (_, i) => cmd(i + 1)));
  const b = r.run(Array.from({ length: 20 }, (_, i) => cmd(i + 21)));
  for (let i = 0; i < 4; i++) await tick();
  t.is(applied.length, 40);
  t.is(s.held.length, 16);
  t.true(s.held.every((h) => /^\/commands\/\d+\/ack$/.test(h.path)));
  let n = 0;
  while (n < s.held.length) {
    const h = s.held[n++]!;
    h.release(!h.path.startsWith('/commands/25/'));
    await tick();
  }
  t.is(s.most(), 16);
  t.is(n, 40);
  await t.notThrowsAsync(a);
  await t.throwsAsync(b, { instanceOf: HttpError });
});
