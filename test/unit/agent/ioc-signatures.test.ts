// Each built-in signature on its fixture (test/fixtures/ioc-packets.ts):
// every draw of the fixture's random fields matches it, and only it; each
// near miss (the legitimate packet it could be taken for, the same packet
// with one trait changed) matches nothing.
import test from 'ava';
import { Matcher } from '../../../agent/ioc/matcher.ts';
import type { Part } from '../../fixtures/frames.ts';
import * as fx from '../../fixtures/ioc-packets.ts';
import { realize } from '../../fixtures/realize.ts';
import { sampleOf, samplesOf } from '../../fixtures/samples.ts';

const matcher = new Matcher();
const names = (parts: readonly Part[], n = 200) =>
  new Set(samplesOf(parts, n).flatMap((s) => [...(matcher.match(s) ?? [])].map((i) => i.attack_name)));
const matchesEvery = (parts: readonly Part[], n = 200) => samplesOf(parts, n).filter((s) => matcher.match(s)?.size === 1).length === n;

const cases: { name: string; fixture: Part[]; misses: [string, Part[]][] }[] = [
  {
    name: 'Mirai SYN flood',
    fixture: fx.miraiSyn(),
    misses: [
      ['a Linux SYN (same option kinds and order, MSS 1460, scale 7)', fx.linuxSyn()],
      ['MSS 1460', fx.miraiSyn({ mss: 1460 })],
      ['window scale 7', fx.miraiSyn({ wscale: 7 })],
      ['a window', fx.miraiSyn({ window: 64_240 })],
    ],
  },
  {
    name: 'Mirai ACK flood',
    fixture: fx.miraiAck(),
    misses: [
      ['hping3 -A -d 512', fx.hping3Ack()],
      ['DF set', fx.miraiAck({ df: true })],
      ['PSH+ACK', fx.miraiAck({ flags: 0x18 })],
      ['a Linux request', fx.linuxRequest()],
    ],
  },
  {
    name: 'NTP monlist request',
    fixture: fx.ntpMonlistRequest(),
    misses: [
      ['a mode 3 client request', fx.ntpClient()],
      ['mode 7 REQ_PEER_LIST', fx.ntpMonlistRequest({ code: 0 })],
    ],
  },
  {
    name: 'NTP monlist response',
    fixture: fx.ntpMonlistResponse(),
    misses: [
      ['a mode 4 server answer', fx.ntpServer()],
      ['a refusal (err 7, no items)', fx.ntpMonlistResponse({ err: 7, items: 0 })],
      ['mode 7 answer to REQ_PEER_LIST', fx.ntpMonlistResponse({ code: 0 })],
    ],
  },
  {
    name: 'memcached request (stats/get)',
    fixture: fx.memcachedStats(),
    misses: [
      ['stats without the UDP frame header', fx.memcachedStats({ frame: false })],
      ['a set (stores, amplifies nothing)', fx.memcachedStats({ command: 'set k 0 0 1\r\nx\r\n' })],
    ],
  },
  {
    name: 'memcached response',
    fixture: fx.memcachedStatsAnswer(),
    misses: [
      ['from port 11212', fx.memcachedStatsAnswer({ sport: 11212 })],
      ['reserved bytes not 0', fx.memcachedStatsAnswer({ reserved: 0x0101 })],
    ],
  },
  {
    name: 'SSDP M-SEARCH request',
    fixture: fx.ssdpSearch(),
    misses: [
      ['a NOTIFY announcement', fx.ssdpSearch({ start: 'NOTIFY * HTTP/1.1' })],
      ['to port 1901', fx.ssdpSearch({ dport: 1901 })],
    ],
  },
  {
    name: 'SSDP search response',
    fixture: fx.ssdpResponse(),
    misses: [
      ['HTTP 200 from 1900 without SSDP fields', fx.notSsdpOk()],
      ['from port 80', fx.ssdpResponse({ sport: 80 })],
    ],
  },
  {
    name: 'CLDAP root DSE request',
    fixture: fx.cldapSearch(),
    misses: [
      ['a search under dc=lab,dc=example', fx.cldapSearch({ base: 'dc=lab,dc=example' })],
      ['scope wholeSubtree', fx.cldapSearch({ scope: 2 })],
      ['to port 636', fx.cldapSearch({ dport: 636 })],
    ],
  },
  {
    name: 'CLDAP root DSE response',
    fixture: fx.cldapEntry(),
    misses: [
      ['searchResDone alone', fx.cldapEntry({ op: 0x65 })],
      ['the entry of another object', fx.cldapEntry({ dn: 'CN=Users,DC=lab,DC=example' })],
    ],
  },
];

for (const c of cases) {
  test(`${c.name}: every draw of its fixture, and nothing else`, (t) => {
    t.true(matchesEvery(c.fixture), 'all 200 draws match one indicator');
    t.deepEqual([...names(c.fixture)], [c.name]);
  });
  for (const [what, parts] of c.misses) {
    test(`${c.name}: not ${what}`, (t) => {
      t.deepEqual([...names(parts)], []);
    });
  }
}

test('memcached: the first fragment of a large answer matches, the later ones cannot (no UDP header)', (t) => {
  const [first, ...later] = fx.memcachedValueFragments().map((f) => sampleOf(realize(f)));
  t.is(later.length, 2);
  t.like(first!.head, { frag: 'first', sport: 11211 });
  t.deepEqual(
    [...(matcher.match(first!) ?? [])].map((i) => i.attack_name),
    ['memcached response'],
  );
  for (const f of later) t.is(matcher.match(f), null);
  t.deepEqual([...names(fx.memcachedContinuation())], ['memcached response'], 'a continuation datagram by its frame header');
});

test('CLDAP: the RFC 1798 form with its user field; LDAP over TCP is not CLDAP', (t) => {
  t.deepEqual([...names(fx.cldapSearch({ user: true }))], ['CLDAP root DSE request']);
  t.deepEqual([...names(fx.cldapSearch({ tcp: true }))], []);
});

test('the lab background never matches: Linux HTTP, DNS answers, pings, NTP', (t) => {
  for (const parts of [fx.linuxSyn(), fx.linuxRequest(), fx.dnsAnswer(), fx.ping(), fx.ntpClient(), fx.ntpServer()]) {
    t.deepEqual([...names(parts, 100)], []);
  }
});

test('a head cut short never throws, and names nothing but its own signature', (t) => {
  for (const c of cases) {
    const frame = realize(c.fixture);
    for (let n = 0; n < Math.min(frame.length, 128); n++) {
      const found = [...(matcher.match(sampleOf(frame.subarray(0, n))) ?? [])].map((i) => i.attack_name);
      t.true(
        found.every((x) => x === c.name),
        `${c.name} cut at ${n}: ${found}`,
      );
    }
  }
});
