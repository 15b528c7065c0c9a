// Address and prefix parsing, canonical text (RFC 5952) and containment.
import test from 'ava';
import { contains, formatAddress, parsePrefix } from '../../../contract/index.ts';

const canon: [string, string][] = [
  ['2001:DB8::1', '2001:db8::1'],
  ['2001:0db8:0000:0000:0000:0000:0000:0001', '2001:db8::1'],
  ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'],
  ['2001:0:0:1:0:0:0:1', '2001:0:0:1::1'],
  ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
  ['::', '::'],
  ['::1', '::1'],
  ['1::', '1::'],
  ['fe80::', 'fe80::'],
  ['::ffff:192.0.2.1', '::ffff:c000:201'],
  ['0.0.0.0', '0.0.0.0'],
  ['255.255.255.255', '255.255.255.255'],
];
for (const [input, want] of canon) {
  test(`canonical text of ${input}`, (t) => {
    const r = parsePrefix(input);
    t.true(r.ok);
    if (r.ok) t.is(r.prefix.address, want);
  });
}

test('formatAddress of raw bytes', (t) => {
  t.is(formatAddress([192, 0, 2, 1]), '192.0.2.1');
  t.is(formatAddress([0x20, 0x01, 0x0d, 0xb8, ...new Array<number>(12).fill(0)]), '2001:db8::');
});

test('masking instead of refusing host bits, when asked', (t) => {
  const r = parsePrefix('192.0.2.77/20', true);
  t.true(r.ok);
  if (r.ok) t.is(r.prefix.cidr, '192.0.0.0/20');
  t.false(parsePrefix('192.0.2.77/20').ok);
});

test('containment', (t) => {
  const p = (s: string) => {
    const r = parsePrefix(s);
    if (!r.ok) throw new Error(r.reason);
    return r.prefix;
  };
  t.true(contains(p('10.0.0.0/8'), p('10.200.3.4')));
  t.false(contains(p('10.0.0.0/8'), p('11.0.0.1')));
  t.false(contains(p('10.1.0.0/16'), p('10.0.0.0/8')));
  t.true(contains(p('0.0.0.0/0'), p('1.2.3.4')));
  t.true(contains(p('2001:db8::/32'), p('2001:db8:ffff::1')));
  t.false(contains(p('2001:db8::/33'), p('2001:db8:8000::1')));
  t.false(contains(p('::/0'), p('1.2.3.4')));
});
