// The server's addresses protected from rules (agent/server-addresses.ts):
// an address is never looked up; a name is awaited once, then refreshed
// behind the commands, never in their way; a failed lookup keeps the last.
import test from 'ava';
import { REFRESH_MS, ServerAddresses } from '../../../agent/server-addresses.ts';

const warnings: string[] = [];
const log = { debug() {}, info() {}, warn: (m: string) => warnings.push(m), error() {} } as never;

/** A lookup whose answers the test gives by hand. */
function manualLookup() {
  const calls: { host: string; answer: (a: string[] | Error) => void }[] = [];
  const lookup = (host: string) =>
    new Promise<string[]>((resolve, reject) => calls.push({ host, answer: (a) => (a instanceof Error ? reject(a) : resolve(a)) }));
  return { calls, lookup };
}

test('an address in the URL is the address: no lookup', async (t) => {
  const m = manualLookup();
  t.deepEqual(await new ServerAddresses('http://198.18.0.1:8080', log, m.lookup).current(), ['198.18.0.1']);
  t.deepEqual(await new ServerAddresses('https://[2001:db8::7]/', log, m.lookup).current(), ['2001:db8::7']);
  t.is(m.calls.length, 0);
});

test('a name: the first call waits for the answer; later ones get it at once and refresh behind after REFRESH_MS', async (t) => {
  const m = manualLookup();
  const s = new ServerAddresses('https://bw.example.test', log, m.lookup);
  const first = s.current(0);
  t.is(m.calls.length, 1);
  t.is(m.calls[0]!.host, 'bw.example.test');
  m.calls[0]!.answer(['198.18.0.5']);
  t.deepEqual(await first, ['198.18.0.5']);
  // Within REFRESH_MS: no lookup.
  t.deepEqual(await s.current(REFRESH_MS - 1), ['198.18.0.5']);
  t.is(m.calls.length, 1);
  // Past it: the last answer at once, one lookup behind it, whatever the number of callers meanwhile.
  t.deepEqual(await s.current(REFRESH_MS), ['198.18.0.5']);
  t.deepEqual(await s.current(REFRESH_MS + 5), ['198.18.0.5']);
  t.is(m.calls.length, 2);
  m.calls[1]!.answer(['198.18.0.6', '2001:db8::6']);
  await new Promise((r) => setImmediate(r));
  t.deepEqual(await s.current(REFRESH_MS + 10), ['198.18.0.6', '2001:db8::6']);
});

test('a failed lookup keeps the last addresses and says so', async (t) => {
  const m = manualLookup();
  const s = new ServerAddresses('https://bw.example.test', log, m.lookup);
  const first = s.current(0);
  m.calls[0]!.answer(['198.18.0.5']);
  await first;
  void s.current(REFRESH_MS);
  m.calls[1]!.answer(new Error('ENOTFOUND'));
  await new Promise((r) => setImmediate(r));
  t.deepEqual(await s.current(REFRESH_MS + 1), ['198.18.0.5']);
  t.true(warnings.some((w) => w.includes('cannot resolve the server name')));
});
