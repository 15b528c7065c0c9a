// The push channel (agent/push.ts) hands each config over and reads on: a
// config whose commands' acks are still unanswered does not hold back the
// next event (a removal pushed right after an add), and one that fails to
// apply leaves the stream open.
import test from 'ava';
import type { AgentClient } from '../../../agent/http.ts';
import { PushChannel } from '../../../agent/push.ts';

const warnings: string[] = [];
const log = { debug() {}, info() {}, warn: (m: string) => warnings.push(m), error() {} } as never;
const event = (id: number) => `event: config\ndata: ${JSON.stringify({ node_id: 1, pending_commands: [{ id, command: 'x' }] })}\n\n`;

/** A server stream that sends `events`, then stays open until the channel stops. */
function streamingClient(events: string[]) {
  const client = {
    open: async (_path: string, signal: AbortSignal) => ({
      body: (async function* () {
        yield new TextEncoder().encode(': hello\n\n');
        for (const e of events) yield new TextEncoder().encode(e);
        await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }));
      })(),
    }),
  } as unknown as AgentClient;
  return client;
}

test('the next config is read while the one before is still being answered; a failing one leaves the stream open', async (t) => {
  const seen: number[] = [];
  let release!: () => void;
  const firstAnswered = new Promise<void>((r) => (release = r));
  const onConfig = async (c: { pending_commands?: { id: number }[] }) => {
    const id = c.pending_commands![0]!.id;
    seen.push(id);
    if (id === 1) await firstAnswered; // its acks are on their way
    if (id === 2) throw new Error('bad config');
  };
  const ch = new PushChannel(streamingClient([event(1), event(2), event(3)]), onConfig as never, log);
  ch.start();
  const until = Date.now() + 2000;
  while (seen.length < 3 && Date.now() < until) await new Promise((r) => setTimeout(r, 5));
  t.deepEqual(seen, [1, 2, 3], 'all three handed over before the first was answered');
  t.true(ch.connected);
  t.true(warnings.some((w) => w.includes('pushed config not applied')));
  release();
  await ch.stop();
});
