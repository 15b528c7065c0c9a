// The geoDatabase setting: what it names (the shipped package, a path, or
// nothing), and the consumers the agent gets from it: one with a database, none
// without, none with an error in the log when the database cannot be read.
import path from 'node:path';
import test from 'ava';
import { resolveConfig } from '../../../agent/config.ts';
import { databaseDir, geoConsumers, SHIPPED_DATABASE } from '../../../agent/geo/index.ts';
import { createLogger } from '../../../agent/log.ts';

const FIXTURE = path.join(import.meta.dirname, '../../fixtures/geo');
const base = { nodeUuid: 'u', apiKey: 'k', server: 'http://127.0.0.1:1', iface: 'lo' };

function consumersWith(geoDatabase: string) {
  const lines: string[] = [];
  const cfg = resolveConfig({ flags: { ...base, geoDatabase } });
  return { consumers: geoConsumers({ cfg, log: createLogger('debug', (l) => void lines.push(l)) }), lines };
}

test('the default is the shipped package, resolved where node would find it', (t) => {
  t.is(resolveConfig({ flags: base }).geoDatabase, SHIPPED_DATABASE);
  t.is(path.basename(databaseDir(SHIPPED_DATABASE)!), 'dbip-country');
  t.is(databaseDir('./test/fixtures/geo'), FIXTURE);
  t.is(databaseDir(FIXTURE), FIXTURE);
});

test("'' and off switch countries off; the environment can say off", (t) => {
  t.is(databaseDir(''), null);
  t.is(databaseDir('off'), null);
  t.is(resolveConfig({ flags: base, env: { BREAKWATER_GEO_DATABASE: 'off' } }).geoDatabase, 'off');
  t.deepEqual(consumersWith('').consumers, []);
  t.deepEqual(consumersWith('off').consumers, []);
});

test('a database: one consumer, and a log line with its size', (t) => {
  const { consumers, lines } = consumersWith(FIXTURE);
  t.is(consumers.length, 1);
  t.like(JSON.parse(lines[0]!), { level: 'info', msg: 'country database loaded', database: FIXTURE, ipv4Ranges: 7, ipv6Ranges: 6 });
});

test('a database that cannot be read: no consumer, and an error naming it', (t) => {
  for (const setting of ['/nonexistent/geo', 'no-such-package-of-countries']) {
    const { consumers, lines } = consumersWith(setting);
    t.deepEqual(consumers, []);
    t.like(JSON.parse(lines[0]!), { level: 'error', msg: 'no countries: the country database cannot be read', database: setting });
  }
});
