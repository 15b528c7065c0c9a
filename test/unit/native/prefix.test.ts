import test from 'ava';
import { parsePrefix } from '../../../native/prefix.ts';

test('IPv4 addresses and prefixes', (t) => {
  t.deepEqual(parsePrefix('198.18.0.7'), { family: 4, address: Buffer.from([198, 18, 0, 7]), prefixLen: 32 });
  t.deepEqual(parsePrefix('198.18.0.0/15'), { family: 4, address: Buffer.from([198, 18, 0, 0]), prefixLen: 15 });
  t.deepEqual(parsePrefix('0.0.0.0/0').prefixLen, 0);
});

test('IPv6 forms, including an embedded IPv4 tail', (t) => {
  t.deepEqual(parsePrefix('2001:db8::1').address, Buffer.from('20010db8000000000000000000000001', 'hex'));
  t.deepEqual(parsePrefix('::').address, Buffer.alloc(16));
  t.deepEqual(parsePrefix('2001:db8::/32').prefixLen, 32);
  t.deepEqual(parsePrefix('::ffff:198.18.0.1').address, Buffer.from('00000000000000000000ffffc6120001', 'hex'));
  t.deepEqual(parsePrefix('fe80::1:2:3:4').address, Buffer.from('fe800000000000000001000200030004', 'hex'));
});

test('host bits past the prefix are refused, or masked on request', (t) => {
  t.throws(() => parsePrefix('198.18.0.1/24'), { code: 'EINVAL', message: /host bits/ });
  t.deepEqual(parsePrefix('198.18.0.1/24', { mask: true }).address, Buffer.from([198, 18, 0, 0]));
  t.throws(() => parsePrefix('2001:db8::1/64'), { message: /host bits/ });
  t.deepEqual(parsePrefix('198.18.255.255/17', { mask: true }).address, Buffer.from([198, 18, 128, 0]));
});

test('nonsense is refused with the reason', (t) => {
  for (const bad of ['', 'x', '1.2.3', '1.2.3.4.5', '256.1.1.1', '1.2.3.4/33', '1.2.3.4/-1', '1.2.3.4/a', '1.2.3.4/24/1', '::/129', 'gggg::'])
    t.throws(() => parsePrefix(bad), { code: 'EINVAL' }, bad);
});
