// The command grammar's refuse suite: each input must be refused, and the
// reason must name the problem (the regex), so a refusal for the wrong
// reason fails the test.
import test from 'ava';
import { parseCommand, resolvePolicy } from '../../../contract/index.ts';

const ok = 'iptables -I INPUT -s 1.2.3.4 -j DROP';

const refused: [unknown, RegExp][] = [
  // shell metacharacters and stray characters
  [`${ok}; rm -rf /`, /shell metacharacter ";"/],
  [`${ok} && reboot`, /shell metacharacter "&"/],
  [`${ok} | tee x`, /shell metacharacter "\|"/],
  ['iptables -I INPUT -s $(curl evil) -j DROP', /shell metacharacter "\$"/],
  ['iptables -I INPUT -s `id` -j DROP', /shell metacharacter "`"/],
  [`${ok} > /etc/passwd`, /shell metacharacter ">"/],
  [`${ok}\nreboot`, /shell metacharacter "\\n"/],
  ["iptables -I INPUT -s '1.2.3.4' -j DROP", /shell metacharacter "'"/],
  ['iptables -I INPUT ! -s 1.2.3.4 -j DROP', /shell metacharacter "!"/],
  ['iptables -I INPUT -s 1.2.3.* -j DROP', /shell metacharacter "\*"/],
  ['iptables -I INPUT -s 1.2.3.4 -j DROP # note', /shell metacharacter "#"/],
  ['iptables -I INPUT -s 1.2.3.4 -p tcp --dport 80,443 -j DROP', /unexpected character ","/],
  ['iptables\t-I INPUT -s 1.2.3.4 -j DROP', /unexpected character/],
  ['iptables -I INPUT -s 1.2.3.4 -j DRÖP', /unexpected character "Ö"/],
  // programs
  ['sudo iptables -I INPUT -s 1.2.3.4 -j DROP', /unknown program "sudo"/],
  ['/sbin/iptables -I INPUT -s 1.2.3.4 -j DROP', /unknown program/],
  ['nft add rule inet filter input ip saddr 1.2.3.4 drop', /unknown program "nft"/],
  ['', /unknown program/],
  // commands, chains, tables, targets
  ['iptables -F', /flushing/],
  ['iptables -F INPUT', /flushing/],
  ['iptables --flush', /flushing/],
  ['iptables -P INPUT DROP', /policy/],
  ['iptables -X', /deleting chains/],
  ['iptables -N evil', /creating chains/],
  ['iptables -R INPUT 1 -s 1.2.3.4 -j DROP', /replacing/],
  ['iptables -L', /unknown option -L/],
  ['iptables -I FORWARD -s 1.2.3.4 -j DROP', /chain "FORWARD"/],
  ['iptables -I OUTPUT -s 1.2.3.4 -j DROP', /chain "OUTPUT"/],
  ['iptables -I input -s 1.2.3.4 -j DROP', /chain "input"/],
  ['iptables -t nat -I INPUT -s 1.2.3.4 -j DROP', /table "nat"/],
  ['iptables -t raw -I INPUT -s 1.2.3.4 -j DROP', /table "raw"/],
  ['iptables -I INPUT -s 1.2.3.4 -j ACCEPT', /target "ACCEPT" is refused: only DROP or LOG/],
  ['iptables -I INPUT -s 1.2.3.4 -j REJECT', /target "REJECT"/],
  ['iptables -I INPUT -s 1.2.3.4 -j drop', /target "drop"/],
  ['iptables -I INPUT -s 1.2.3.4', /missing target/],
  ['iptables -s 1.2.3.4 -j DROP', /missing command/],
  ['iptables -I INPUT -j DROP', /missing source/],
  ['iptables -I INPUT -s 1.2.3.4 -A INPUT -j DROP', /more than one command/],
  ['iptables -D INPUT 3', /rule numbers/],
  ['iptables -A INPUT 1 -s 1.2.3.4 -j DROP', /rule numbers/],
  // options
  ['iptables -I INPUT -s 1.2.3.4 -d 5.6.7.8 -j DROP', /unknown option -d/],
  ['iptables -I INPUT -i eth0 -s 1.2.3.4 -j DROP', /unknown option -i/],
  ['iptables -I INPUT -s 1.2.3.4 -p tcp --sport 80 -j DROP', /unknown option --sport/],
  ['iptables -I INPUT -s 1.2.3.4 -m conntrack -j DROP', /match "-m conntrack"/],
  ['iptables -I INPUT -s 1.2.3.4 -p tcp -m udp -j DROP', /match "-m udp"/],
  ['iptables -I INPUT -s 1.2.3.4 -j DROP extra', /unexpected argument "extra"/],
  ['iptables -I INPUT -s 1.2.3.4 -s 5.6.7.8 -j DROP', /duplicated option -s/],
  ['iptables -I INPUT -s 1.2.3.4 --source 5.6.7.8 -j DROP', /duplicated option -s/],
  ['iptables -I INPUT -s 1.2.3.4 -j DROP -j DROP', /duplicated option -j/],
  ['iptables -I INPUT -s 1.2.3.4 -p tcp -p udp -j DROP', /duplicated option -p/],
  ['iptables -I INPUT -s 1.2.3.4 -j', /needs a value/],
  // protocols and ports
  ['iptables -I INPUT -s 1.2.3.4 -p sctp -j DROP', /protocol "sctp"/],
  ['iptables -I INPUT -s 1.2.3.4 -p all -j DROP', /protocol "all"/],
  ['ip6tables -I INPUT -s 2001:db8::1 -p icmp -j DROP', /ipv6-icmp/],
  ['iptables -I INPUT -s 1.2.3.4 -p ipv6-icmp -j DROP', /protocol "ipv6-icmp"/],
  ['iptables -I INPUT -s 1.2.3.4 --dport 80 -j DROP', /--dport needs -p tcp/],
  ['iptables -I INPUT -s 1.2.3.4 -p icmp --dport 80 -j DROP', /--dport needs -p tcp/],
  ['iptables -I INPUT -s 1.2.3.4 -p tcp --dport 0 -j DROP', /port "0"/],
  ['iptables -I INPUT -s 1.2.3.4 -p tcp --dport 65536 -j DROP', /port "65536"/],
  ['iptables -I INPUT -s 1.2.3.4 -p tcp --dport 080 -j DROP', /port "080"/],
  ['iptables -I INPUT -s 1.2.3.4 -p tcp --dport 1000:2000 -j DROP', /port "1000:2000"/],
  ['iptables -I INPUT -s 1.2.3.4 -p tcp --dport http -j DROP', /port "http"/],
  // addresses, families, prefixes
  ['iptables -I INPUT -s 2001:db8::1 -j DROP', /IPv6 address: use ip6tables/],
  ['ip6tables -I INPUT -s 1.2.3.4 -j DROP', /IPv4 address: use iptables/],
  ['ip6tables -I INPUT -s ::ffff:1.2.3.4 -j DROP', /IPv4-mapped/],
  ['iptables -I INPUT -s 1.2.3.256 -j DROP', /not a valid/],
  ['iptables -I INPUT -s 01.2.3.4 -j DROP', /not a valid/],
  ['iptables -I INPUT -s 1.2.3 -j DROP', /not a valid/],
  ['iptables -I INPUT -s example.com -j DROP', /not a valid/],
  ['ip6tables -I INPUT -s 2001:db8:::1 -j DROP', /not a valid/],
  ['ip6tables -I INPUT -s 1:2:3:4:5:6:7:8:9 -j DROP', /not a valid/],
  ['ip6tables -I INPUT -s 1:2:3:4:5:6:7::8 -j DROP', /not a valid/],
  ['ip6tables -I INPUT -s 2001:db8::12345 -j DROP', /not a valid/],
  ['iptables -I INPUT -s 1.2.3.4/33 -j DROP', /prefix length/],
  ['iptables -I INPUT -s 1.2.3.4/024 -j DROP', /prefix length/],
  ['iptables -I INPUT -s 1.2.3.4/ -j DROP', /prefix length/],
  ['iptables -I INPUT -s 1.2.3.4/24 -j DROP', /host bits set: write 1\.2\.3\.0\/24/],
  ['ip6tables -I INPUT -s 2001:db8::1/64 -j DROP', /host bits set: write 2001:db8::\/64/],
  ['iptables -I INPUT -s 0.0.0.0/0 -j DROP', /broader than the policy/],
  ['iptables -I INPUT -s 10.0.0.0/8 -j DROP', /at most \/16 for IPv4/],
  ['iptables -I INPUT -s 10.0.0.0/15 -j DROP', /broader than the policy/],
  ['ip6tables -I INPUT -s ::/0 -j DROP', /broader than the policy/],
  ['ip6tables -I INPUT -s 2001:db8::/32 -j DROP', /at most \/48 for IPv6/],
  // special-purpose sources: never an attacker's on the wire; some would cut the host off its network
  ['iptables -I INPUT -s 127.0.0.1 -j DROP', /127\.0\.0\.0\/8 \(loopback\)/],
  ['iptables -I INPUT -s 127.1.0.0/16 -p tcp -j DROP', /loopback/],
  ['iptables -I INPUT -s 0.0.0.0 -p udp --dport 67 -j DROP', /0\.0\.0\.0\/8 \(unspecified\)/],
  ['iptables -I INPUT -s 169.254.0.0/16 -j DROP', /link-local/],
  ['iptables -I INPUT -s 224.0.0.251 -j DROP', /multicast/],
  ['iptables -I INPUT -s 255.255.255.255 -j DROP', /\(broadcast\)/],
  ['iptables -I INPUT -s 240.1.2.3 -j DROP', /reserved/],
  ['ip6tables -I INPUT -s :: -j DROP', /::\/128 \(unspecified\)/],
  ['ip6tables -I INPUT -s ::1 -j DROP', /loopback/],
  ['ip6tables -I INPUT -s fe80::1 -p icmpv6 -j DROP', /fe80::\/10 \(link-local\)/],
  ['ip6tables -I INPUT -s ff02::1 -j DROP', /multicast/],
  [{ action: 'drop', source: '169.254.169.254' }, /link-local/],
  [`iptables -I INPUT -s 1.2.3.4 -j DROP${' '.repeat(600)}x`, /longer than 512/],
  // structured form
  [{ action: 'accept', source: '1.2.3.4' }, /action must be/],
  [{ source: '1.2.3.4' }, /action must be/],
  [{ action: 'drop' }, /source must be/],
  [{ action: 'drop', source: 16909060 }, /source must be/],
  [{ action: 'drop', source: '1.2.3.4', chain: 'INPUT' }, /unknown key "chain"/],
  [{ action: 'drop', source: '1.2.3.4', protocol: 'sctp' }, /protocol must be/],
  [{ action: 'drop', source: '1.2.3.4', port: 80 }, /port needs protocol/],
  [{ action: 'drop', source: '1.2.3.4', protocol: 'icmp', port: 80 }, /port needs protocol/],
  [{ action: 'drop', source: '1.2.3.4', protocol: 'tcp', port: '80' }, /port must be an integer/],
  [{ action: 'drop', source: '1.2.3.4', protocol: 'tcp', port: 70000 }, /port must be an integer/],
  [{ action: 'drop', source: '1.2.3.4', protocol: 'tcp', port: 8.5 }, /port must be an integer/],
  [{ action: 'drop', source: '1.2.3.4', ttl_seconds: 0 }, /positive integer/],
  [{ action: 'drop', source: '1.2.3.4', ttl_seconds: -5 }, /positive integer/],
  [{ action: 'drop', source: '1.2.3.4', ttl_seconds: '60' }, /positive integer/],
  [{ action: 'drop', source: '1.2.3.4', ttl_seconds: 86401 }, /exceeds the maximum of 86400/],
  [{ action: 'delete', source: '1.2.3.4', ttl_seconds: 60 }, /means nothing for a delete/],
  [{ action: 'drop', source: '10.0.0.0/8' }, /broader than the policy/],
  [{ action: 'drop', source: '1.2.3.4/24' }, /host bits/],
  ['{"action":"drop","source":"1.2.3.4"', /not valid JSON/],
  ['{"action":"drop","source":"1.2.3.4","__proto__":{"x":1}}', /unknown key "__proto__"/],
  [['drop', '1.2.3.4'], /JSON object/],
  [null, /string or an object/],
  [42, /string or an object/],
];

for (const [input, why] of refused) {
  test(`refuses: ${JSON.stringify(input).slice(0, 90)}`, (t) => {
    const r = parseCommand(input);
    t.false(r.ok, 'must be refused');
    if (!r.ok) t.regex(r.reason, why);
  });
}

test('policy values that make no sense are a configuration error', (t) => {
  t.throws(() => resolvePolicy({ minPrefixV4: 0 }), { instanceOf: RangeError });
  t.throws(() => resolvePolicy({ minPrefixV6: 129 }), { instanceOf: RangeError });
  t.throws(() => resolvePolicy({ defaultTtlSeconds: 7200, maxTtlSeconds: 3600 }), { instanceOf: RangeError });
});

test('a TTL over a configured maximum is refused', (t) => {
  const r = parseCommand(
    { action: 'drop', source: '1.2.3.4', ttl_seconds: 601 },
    resolvePolicy({ maxTtlSeconds: 600, defaultTtlSeconds: 60 }),
  );
  t.false(r.ok);
  if (!r.ok) t.regex(r.reason, /maximum of 600/);
});
