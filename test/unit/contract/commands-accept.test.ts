// The command grammar's accept suite: each command and the exact rule it gives.
import test from 'ava';
import { type Command, parseCommand, renderCommand, resolvePolicy } from '../../../contract/index.ts';

type Want = { op: Command['op']; family: 4 | 6; ttlSeconds: number; cidr: string; protocol?: string; port?: number; mode?: 'log' };

function expectRule(t: import('ava').ExecutionContext, input: unknown, want: Want, policy = resolvePolicy()): void {
  const r = parseCommand(input, policy);
  if (!r.ok) {
    t.fail(`refused: ${r.reason}`);
    return;
  }
  const { source, ttlSeconds, ...rest } = r.command.rule;
  t.deepEqual({ op: r.command.op, family: source.family, ttlSeconds: ttlSeconds ?? 0, cidr: source.cidr, ...rest }, want);
  // The rendering is the inverse of the parse (the server renders what agents parse).
  const back = parseCommand(renderCommand(r.command), policy);
  const rule = back.ok && (ttlSeconds === undefined ? back.command.rule : { ...back.command.rule, ttlSeconds });
  t.deepEqual(back.ok && { ...back.command, rule }, r.command, 'rendered and parsed back');
}

const add4 = (cidr: string, extra: Partial<Want> = {}): Want => ({ op: 'add', family: 4, ttlSeconds: 3600, cidr, ...extra });
const add6 = (cidr: string, extra: Partial<Want> = {}): Want => ({ op: 'add', family: 6, ttlSeconds: 3600, cidr, ...extra });

const accepted: [string, Want][] = [
  ['iptables -I INPUT -s 1.2.3.4 -j DROP', add4('1.2.3.4/32')],
  ['iptables -A INPUT -s 1.2.3.4 -j DROP', add4('1.2.3.4/32')],
  // Log-only (extension): counted, not dropped.
  ['iptables -I INPUT -s 1.2.3.4 -j LOG', add4('1.2.3.4/32', { mode: 'log' })],
  ['iptables -I INPUT -s 1.2.3.0/24 -p udp --dport 53 -j LOG', add4('1.2.3.0/24', { protocol: 'udp', port: 53, mode: 'log' })],
  ['ip6tables -I INPUT -s 2001:db8::/48 -j LOG', add6('2001:db8::/48', { mode: 'log' })],
  ['iptables -D INPUT -s 1.2.3.4 -j DROP', { op: 'delete', family: 4, ttlSeconds: 0, cidr: '1.2.3.4/32' }],
  ['iptables -I INPUT 1 -s 1.2.3.4 -j DROP', add4('1.2.3.4/32')],
  ['iptables -I INPUT -s 198.51.100.0/24 -j DROP', add4('198.51.100.0/24')],
  ['iptables -I INPUT -s 10.20.0.0/16 -j DROP', add4('10.20.0.0/16')],
  ['iptables -I INPUT -s 1.2.3.4 -p tcp -j DROP', add4('1.2.3.4/32', { protocol: 'tcp' })],
  ['iptables -I INPUT -s 1.2.3.4 -p udp --dport 53 -j DROP', add4('1.2.3.4/32', { protocol: 'udp', port: 53 })],
  ['iptables -I INPUT -s 1.2.3.4 -p tcp --dport 65535 -j DROP', add4('1.2.3.4/32', { protocol: 'tcp', port: 65535 })],
  ['iptables -I INPUT -s 1.2.3.4 -p tcp -m tcp --dport 443 -j DROP', add4('1.2.3.4/32', { protocol: 'tcp', port: 443 })],
  ['iptables -I INPUT -s 1.2.3.4 -p icmp -j DROP', add4('1.2.3.4/32', { protocol: 'icmp' })],
  ['iptables -j DROP -s 1.2.3.4 -I INPUT', add4('1.2.3.4/32')],
  ['iptables -t filter -I INPUT -s 1.2.3.4 -j DROP', add4('1.2.3.4/32')],
  [
    'iptables --insert INPUT --source 1.2.3.4 --protocol udp --destination-port 123 --jump DROP',
    add4('1.2.3.4/32', { protocol: 'udp', port: 123 }),
  ],
  ['iptables  -I   INPUT -s 1.2.3.4  -j DROP ', add4('1.2.3.4/32')],
  ['ip6tables -I INPUT -s 2001:db8::1 -j DROP', add6('2001:db8::1/128')],
  ['ip6tables -I INPUT -s 2001:DB8:0:0:0:0:0:1 -j DROP', add6('2001:db8::1/128')],
  ['ip6tables -I INPUT -s 2001:db8:1::/48 -j DROP', add6('2001:db8:1::/48')],
  ['ip6tables -I INPUT -s 2001:db8::/64 -p ipv6-icmp -j DROP', add6('2001:db8::/64', { protocol: 'icmp' })],
  ['ip6tables -I INPUT -s 2001:db8::/64 -p icmpv6 -j DROP', add6('2001:db8::/64', { protocol: 'icmp' })],
  ['ip6tables -A INPUT -s 2001:db8::1:2 -p udp --dport 5353 -j DROP', add6('2001:db8::1:2/128', { protocol: 'udp', port: 5353 })],
  ['ip6tables -I INPUT -s 2001:0:0:1:0:0:0:1 -j DROP', add6('2001:0:0:1::1/128')],
  ['ip6tables -I INPUT -s 64:ff9b::192.0.2.33 -j DROP', add6('64:ff9b::c000:221/128')],
  ['ip6tables -D INPUT -s 2001:db8::/32 -j DROP', { op: 'delete', family: 6, ttlSeconds: 0, cidr: '2001:db8::/32' }],
];

for (const [cmd, want] of accepted) test(`accepts: ${JSON.stringify(cmd)}`, (t) => expectRule(t, cmd, want));

const structured: [unknown, Want][] = [
  [{ action: 'drop', source: '1.2.3.4' }, add4('1.2.3.4/32')],
  [{ action: 'log', source: '1.2.3.4', protocol: 'tcp' }, add4('1.2.3.4/32', { protocol: 'tcp', mode: 'log' })],
  [
    { action: 'drop', source: '203.0.113.0/24', protocol: 'udp', port: 123, ttl_seconds: 600 },
    add4('203.0.113.0/24', { protocol: 'udp', port: 123, ttlSeconds: 600 }),
  ],
  [
    { action: 'drop', source: '2001:db8::/48', protocol: 'icmp', ttl_seconds: 86400 },
    add6('2001:db8::/48', { protocol: 'icmp', ttlSeconds: 86400 }),
  ],
  [
    { action: 'delete', source: '1.2.3.4', protocol: 'tcp', port: 22 },
    { op: 'delete', family: 4, ttlSeconds: 0, cidr: '1.2.3.4/32', protocol: 'tcp', port: 22 },
  ],
  ['{"action":"drop","source":"198.51.100.7","ttl_seconds":30}', add4('198.51.100.7/32', { ttlSeconds: 30 })],
  ['  {"action": "drop", "source": "2001:db8::7"}', add6('2001:db8::7/128')],
];

for (const [input, want] of structured) test(`accepts structured: ${JSON.stringify(input)}`, (t) => expectRule(t, input, want));

test('policy: the default TTL and the prefix limits are configurable', (t) => {
  const p = resolvePolicy({ defaultTtlSeconds: 120, maxTtlSeconds: 600, minPrefixV4: 8, minPrefixV6: 32 });
  expectRule(t, 'iptables -I INPUT -s 10.0.0.0/8 -j DROP', add4('10.0.0.0/8', { ttlSeconds: 120 }), p);
  expectRule(t, 'ip6tables -I INPUT -s 2001:db8::/32 -j DROP', add6('2001:db8::/32', { ttlSeconds: 120 }), p);
  expectRule(t, { action: 'drop', source: '1.2.3.4', ttl_seconds: 600 }, add4('1.2.3.4/32', { ttlSeconds: 600 }), p);
});

test('a delete of a prefix broader than the policy is accepted: it only removes a drop', (t) => {
  expectRule(t, 'iptables -D INPUT -s 10.0.0.0/8 -j DROP', { op: 'delete', family: 4, ttlSeconds: 0, cidr: '10.0.0.0/8' });
});

test('the rule carries the network bytes for the kernel key', (t) => {
  const r = parseCommand('ip6tables -I INPUT -s 2001:db8:a::/48 -j DROP');
  t.true(r.ok);
  if (r.ok) t.deepEqual(r.command.rule.source.bytes, [0x20, 0x01, 0x0d, 0xb8, 0, 0x0a, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
});
