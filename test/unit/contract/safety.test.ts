// The safety check: no added rule may cover the server, the host's own
// addresses, the default gateway, or overlap the local allowlist.
import test from 'ava';
import { type Command, checkSafety, parseCommand, protectedEntries } from '../../../contract/index.ts';

const protect = protectedEntries({
  server: ['203.0.113.5', '2001:db8:5::5'],
  host: ['198.51.100.20', '2001:db8:20::20'],
  gateway: ['198.51.100.1'],
  allowlist: ['192.0.2.0/24', '2001:db8:aaaa::/48'],
});

function rule(cmd: string): Command {
  const r = parseCommand(cmd);
  if (!r.ok) throw new Error(r.reason);
  return r.command;
}

const refused: [string, RegExp][] = [
  ['iptables -I INPUT -s 203.0.113.5 -j DROP', /server address 203\.0\.113\.5/],
  ['iptables -I INPUT -s 203.0.113.0/24 -j DROP', /server address 203\.0\.113\.5/],
  ['iptables -I INPUT -s 203.0.0.0/16 -p tcp --dport 22 -j DROP', /server address/],
  ['iptables -I INPUT -s 198.51.100.20 -j DROP', /host address 198\.51\.100\.20/],
  ['iptables -I INPUT -s 198.51.100.0/30 -j DROP', /gateway address 198\.51\.100\.1/],
  ['iptables -I INPUT -s 192.0.2.77 -j DROP', /allowlist address 192\.0\.2\.0\/24/],
  ['iptables -I INPUT -s 192.0.0.0/16 -j DROP', /allowlist/],
  ['ip6tables -I INPUT -s 2001:db8:5::5 -j DROP', /server address 2001:db8:5::5/],
  ['ip6tables -I INPUT -s 2001:db8:20::/48 -j DROP', /host address 2001:db8:20::20/],
  ['ip6tables -I INPUT -s 2001:db8:aaaa:1::/64 -j DROP', /allowlist/],
];
for (const [cmd, why] of refused) {
  test(`refuses: ${cmd}`, (t) => {
    const r = checkSafety(rule(cmd), protect);
    t.false(r.ok);
    if (!r.ok) t.regex(r.reason, why);
  });
}

const allowed = [
  'iptables -I INPUT -s 203.0.113.6 -j DROP',
  'iptables -I INPUT -s 203.0.113.128/25 -j DROP',
  'iptables -I INPUT -s 198.51.100.4/30 -j DROP',
  'iptables -I INPUT -s 192.0.3.0/24 -j DROP',
  'ip6tables -I INPUT -s 2001:db8:5::6 -j DROP',
  'ip6tables -I INPUT -s 2001:db8:aaab::/48 -j DROP',
  'iptables -D INPUT -s 203.0.113.5 -j DROP', // a delete never cuts the host off
];
for (const cmd of allowed) test(`allows: ${cmd}`, (t) => t.deepEqual(checkSafety(rule(cmd), protect), { ok: true }));

test('IPv4 protection does not leak into IPv6 rules and back', (t) => {
  const only4 = protectedEntries({ server: ['1.2.3.4'] });
  t.true(checkSafety(rule('ip6tables -I INPUT -s 2001:db8::/48 -j DROP'), only4).ok);
  t.false(checkSafety(rule('iptables -I INPUT -s 1.2.0.0/16 -j DROP'), only4).ok);
});

test('protected entries: host bits are cleared, garbage is a configuration error', (t) => {
  const e = protectedEntries({ allowlist: ['10.1.2.3/8'] });
  t.is(e[0]?.prefix.cidr, '10.0.0.0/8');
  t.throws(() => protectedEntries({ gateway: ['router.local'] }), { message: /protected gateway entry/ });
});
