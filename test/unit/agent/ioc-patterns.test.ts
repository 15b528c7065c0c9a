// The workspace's IOC patterns (GET /config ioc_patterns): bytes as hex or
// text, at an offset of the L4 payload or anywhere in it, for one protocol
// and port; what the server should never send is left out with a reason.
import test from 'ava';
import { Matcher } from '../../../agent/ioc/matcher.ts';
import { PatternIndex } from '../../../agent/ioc/patterns.ts';
import type { IocPattern } from '../../../contract/wire/ioc.ts';
import { frame4, type Part, text, udp } from '../../fixtures/frames.ts';
import { linuxRequest, miraiSyn } from '../../fixtures/ioc-packets.ts';
import { realize } from '../../fixtures/realize.ts';
import { sampleOf } from '../../fixtures/samples.ts';

const udpTo = (dport: number, payload: string): Part[] =>
  frame4({ src: '198.19.4.4', dst: '198.18.0.1', proto: 17 }, udp(40_000, dport, [text(payload)]));
const base = { attack_family: 'udp_flood' } as const;

function matched(patterns: IocPattern[], parts: Part[]): string[] {
  const m = new Matcher([]);
  m.setPatterns(new PatternIndex(patterns));
  return [...(m.match(sampleOf(realize(parts))) ?? [])].map((i) => i.attack_name).sort();
}

test('hex at an offset: only there; text anywhere in the payload', (t) => {
  const p = udpTo(9999, 'xxGAMEOVER..');
  t.deepEqual(matched([{ ...base, attack_name: 'at 2', hex: '47414d45', offset: 2 }], p), ['at 2']);
  t.deepEqual(matched([{ ...base, attack_name: 'at 3', hex: '47414d45', offset: 3 }], p), []);
  t.deepEqual(matched([{ ...base, attack_name: 'anywhere', text: 'OVER' }], p), ['anywhere']);
  t.deepEqual(matched([{ ...base, attack_name: 'one byte', hex: '2e', offset: 10 }], p), ['one byte']);
  t.deepEqual(matched([{ ...base, attack_name: 'absent', text: 'OVERT' }], p), []);
});

test('the payload only: bytes of the headers never match', (t) => {
  // 198.19.4.4 as hex is in the IP header, and UDP port 9999 (270f) in the UDP header.
  t.deepEqual(matched([{ ...base, attack_name: 'source address', hex: 'c6130404' }], udpTo(9999, 'hello')), []);
  t.deepEqual(matched([{ ...base, attack_name: 'port', hex: '270f' }], udpTo(9999, 'hello')), []);
});

test('protocol and port (source or destination)', (t) => {
  const get = { ...base, attack_name: 'GET', text: 'GET /' };
  t.deepEqual(matched([{ ...get, protocol: 'tcp' }], linuxRequest()), ['GET']);
  t.deepEqual(matched([{ ...get, protocol: 'udp' }], linuxRequest()), []);
  t.deepEqual(matched([{ ...get, protocol: 'tcp', port: 80 }], linuxRequest()), ['GET'], 'destination port');
  t.deepEqual(matched([{ ...get, protocol: 'tcp', port: 8080 }], linuxRequest()), []);
  const reply = frame4({ src: '198.19.4.4', dst: '198.18.0.1', proto: 17 }, udp(5353, 40_000, [text('GET /')]));
  t.deepEqual(matched([{ ...get, protocol: 'udp', port: 5353 }], reply), ['GET'], 'source port');
});

test('a packet without payload bytes in its head, or only a part of the pattern in it: no match', (t) => {
  t.deepEqual(matched([{ ...base, attack_name: 'x', hex: '00' }], miraiSyn()), [], 'a SYN has no payload');
  const long = udpTo(9999, `${'a'.repeat(84)}TAIL`); // TAIL at bytes 126-129: across the end of the 128-byte head
  t.deepEqual(matched([{ ...base, attack_name: 'tail', text: 'TAIL' }], long), []);
});

test('patterns of one name share one indicator; botnet names it', (t) => {
  const idx = new PatternIndex([
    { ...base, attack_name: 'Acme bot', text: 'ACME1', botnet: true },
    { ...base, attack_name: 'Acme bot', text: 'ACME2' },
  ]);
  const m = new Matcher([]);
  m.setPatterns(idx);
  const both = [...(m.match(sampleOf(realize(udpTo(1, 'ACME1 ACME2')))) ?? [])];
  t.is(both.length, 1);
  t.like(both[0], { attack_name: 'Acme bot', source: 'workspace', botnet: 'Acme bot' });
});

test('what the server should never send is left out, with the reason', (t) => {
  const idx = new PatternIndex([
    { ...base, attack_name: 'ok', text: 'ok' },
    { ...base, attack_name: '', text: 'x' },
    { ...base, attack_name: 'odd hex', hex: 'abc' },
    { ...base, attack_name: 'port without protocol', text: 'x', port: 53 },
    { ...base, attack_name: 'icmp port', text: 'x', protocol: 'icmp', port: 53 },
    { attack_family: 'nope', attack_name: 'family', text: 'x' } as unknown as IocPattern,
    null as unknown as IocPattern,
  ]);
  t.is(idx.size, 1);
  t.deepEqual(
    idx.skipped.map((s) => s.replace(/^pattern \d+: /, '')),
    ['no attack_name', 'neither hex nor text', 'bad port', 'bad port', "unknown attack_family 'nope'", 'no attack_name'],
  );
});

test('10,000 patterns: the one that is there is found, no other', (t) => {
  const patterns: IocPattern[] = Array.from({ length: 10_000 }, (_, i) => ({ ...base, attack_name: `p${i}`, text: `tok-${i}-x` }));
  t.deepEqual(matched(patterns, udpTo(9999, 'zz tok-4242-x zz')), ['p4242']);
});
