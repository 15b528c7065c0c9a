// The shipped database (the geoDatabase default, README.md "Data") on real
// public addresses whose country has been the same in every registry and
// geolocation source for many years: each is a national network or a
// registry's own network, in the country that runs it, on both families.
// Anycast services are avoided (their location is a choice of the database)
// except 8.8.8.8, whose country every database has always given as US.
import test from 'ava';
import { Countries, databaseDir, SHIPPED_DATABASE } from '../../../agent/geo/countries.ts';

const shipped = Countries.load(databaseDir(SHIPPED_DATABASE)!);

const KNOWN: [string, string, string][] = [
  ['193.0.6.139', 'NL', "www.ripe.net: RIPE NCC's own network, Amsterdam"],
  ['2001:67c:2e8:22::c100:68b', 'NL', 'www.ripe.net over IPv6'],
  ['200.160.2.3', 'BR', 'NIC.br (registro.br), 200.160.0.0/20'],
  ['2001:12ff:0:4::22', 'BR', 'NIC.br, 2001:12ff::/32'],
  ['202.12.27.33', 'JP', 'WIDE Project (m.root-servers.net), Tokyo'],
  ['2001:200:dff:fff1:216:3eff:feb1:44d7', 'JP', 'WIDE Project, 2001:200::/32'],
  ['130.59.31.80', 'CH', 'SWITCH, the Swiss research network'],
  ['2001:620:0:ff::5c', 'CH', 'SWITCH, 2001:620::/32'],
  ['133.11.0.1', 'JP', 'the University of Tokyo, 133.11.0.0/16'],
  ['8.8.8.8', 'US', 'Google Public DNS'],
];

test('real public addresses get their country', (t) => {
  for (const [address, cc, what] of KNOWN) t.is(shipped.lookup(address), cc, `${address} (${what})`);
});

test('reserved ranges have no country in the shipped data', (t) => {
  for (const a of ['10.0.0.1', '127.0.0.1', '192.168.1.1', '198.18.0.1', '198.19.255.1', '::1', 'fe80::1', '2001:db8::1']) {
    t.is(shipped.lookup(a), null, a);
  }
});

test('the whole database is loaded: hundreds of thousands of ranges, about 250 countries', (t) => {
  const { table } = shipped;
  t.true(table.ranges4 > 100_000, `${table.ranges4} IPv4 ranges`);
  t.true(table.ranges6 > 100_000, `${table.ranges6} IPv6 ranges`);
  t.true(table.parts.codes.length > 200, `${table.parts.codes.length - 1} countries`);
});
