// The country table and its loader on the lab's test database
// (test/fixtures/geo, the package's CSV format: the *-num.csv files the agent
// reads, and the same ranges as text beside them), then on small databases
// written for one case each: gaps, ranges inside a /64, and what is refused.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import test from 'ava';
import { Countries } from '../../../agent/geo/countries.ts';
import { databaseFiles } from '../../../agent/geo/load.ts';

const FIXTURE = path.join(import.meta.dirname, '../../fixtures/geo');
const lab = Countries.load(FIXTURE);

function db(files: Record<string, string>): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bw-geo-'));
  for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), text);
  return dir;
}

test('the test database: every range of its text form, at both ends, in both families', (t) => {
  let rows = 0;
  for (const fam of ['ipv4', 'ipv6']) {
    const text = fs
      .readFileSync(path.join(FIXTURE, `lab-country-${fam}.csv`), 'utf8')
      .trim()
      .split('\n');
    for (const line of text) {
      const [start, end, cc] = line.split(',');
      t.is(lab.lookup(start!), cc!, `${start} in ${line}`);
      t.is(lab.lookup(end!), cc!, `${end} in ${line}`);
      rows++;
    }
  }
  t.is(rows, 11);
  t.is(lab.table.ranges4, 7, 'six ranges and the start of what lies above them');
});

test('lab addresses: the victim side, the spoofed range, the reflectors; outside the ranges: null', (t) => {
  t.is(lab.lookup('198.18.61.2'), 'DE');
  t.is(lab.lookup('198.18.200.3'), 'FR');
  t.is(lab.lookup('198.19.6.6'), 'BR');
  t.is(lab.lookup('198.19.53.17'), 'ZA');
  t.is(lab.lookup('198.19.54.0'), 'BR');
  t.is(lab.lookup('198.19.128.0'), 'JP');
  t.is(lab.lookup('198.17.255.255'), null);
  t.is(lab.lookup('198.20.0.0'), null);
  t.is(lab.lookup('0.0.0.0'), null);
  t.is(lab.lookup('255.255.255.255'), null);
  t.is(lab.lookup('::ffff:198.19.53.1'), 'ZA', 'IPv4-mapped: as its IPv4');
  t.is(lab.lookup('2001:db8:1:2::7fff'), 'CA');
  t.is(lab.lookup('2001:db8:1:2::8000'), 'NZ', 'a range that starts inside a /64');
  t.is(lab.lookup('2001:db8:1:2::1:0'), 'CA', 'and the one after it');
  t.is(lab.lookup('2001:db8:1:3::'), 'CA');
  t.is(lab.lookup('2001:db8:8000::1'), 'AU');
  t.is(lab.lookup('2001:db7:ffff:ffff:ffff:ffff:ffff:ffff'), null);
  t.is(lab.lookup('2001:db9::'), null);
  t.is(lab.lookup('::'), null);
  t.is(lab.lookup('not an address'), null);
  t.is(lab.lookup('198.018.0.1'), null, "the contract's parser: no octal-looking octets");
});

test('gaps between ranges, a range up to the last address, no trailing newline, CRLF', (t) => {
  const c = Countries.load(
    db({
      'x-ipv4-num.csv': '10,19,AA\r\n30,39,BB\r\n\r\n4294967290,4294967295,CC',
      'x-ipv6-num.csv': `0,${2n ** 64n - 1n},AA\n${2n ** 64n + 5n},${2n ** 64n + 9n},BB\n`,
    }),
  );
  const v4 = (n: number) => [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
  t.deepEqual(
    [9, 10, 19, 20, 29, 30, 39, 40, 4294967289, 4294967290, 4294967295].map((n) => c.lookup(v4(n))),
    [null, 'AA', 'AA', null, null, 'BB', 'BB', null, null, 'CC', 'CC'],
  );
  t.is(c.lookup('::'), 'AA');
  t.is(c.lookup('::ffff:ffff:ffff:ffff'), 'AA');
  t.is(c.lookup('0:0:0:1::4'), null, 'in a gap inside a /64');
  t.is(c.lookup('0:0:0:1::5'), 'BB');
  t.is(c.lookup('0:0:0:1::9'), 'BB');
  t.is(c.lookup('0:0:0:1::a'), null, 'after the last range');
  t.is(Countries.load(db({ 'y-ipv4-num.csv': '1,2,AA\n' })).lookup('::1'), null, 'IPv4 only: no IPv6 country');
});

test('refused: out of order, overlapping, malformed lines, bad codes, numbers too large; with the file and line', (t) => {
  const refuses = (text: string, message: RegExp, name = 'z-ipv4-num.csv') =>
    t.throws(() => Countries.load(db({ [name]: text })), { message }, text);
  refuses('10,20,AA\n5,9,BB\n', /z-ipv4-num\.csv:2: IPv4 ranges out of order or overlapping/);
  refuses('10,20,AA\n20,29,BB\n', /:2: IPv4 ranges out of order/);
  refuses('10,9,AA\n', /:1: IPv4 ranges out of order/);
  refuses('1,2,AA\n3,4\n', /:2: expected start,end,CC/);
  refuses('1,2,AA\n3,4,aa\n', /:2: country code must be two capital letters/);
  refuses('1,2,A\n', /:1: expected start,end,CC/);
  refuses('1,x,AA\n', /:1: unexpected "x"/);
  refuses('1,4294967296,AA\n', /:1: not an IPv4 address/);
  refuses(`1,${2n ** 128n},AA\n`, /z-ipv6-num\.csv:1: number out of range/, 'z-ipv6-num.csv');
  refuses(`1,2,AA\n${'9'.repeat(40)},1,BB\n`, /:2: number out of range/, 'z-ipv6-num.csv');
  t.throws(() => databaseFiles(db({ 'readme.txt': '' })), { message: /no \*-ipv4-num\.csv or \*-ipv6-num\.csv/ });
  t.throws(() => databaseFiles(db({ 'a-ipv4-num.csv': '', 'b-ipv4-num.csv': '' })), { message: /more than one/ });
});
