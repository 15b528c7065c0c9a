import test from 'ava';
import { type ApplyContext, applyCommand, type Outcome, type RuleTable } from '../../../agent/rules.ts';
import { protectedEntries, resolvePolicy } from '../../../contract/index.ts';
import { matchKey, type Rule, type RuleMatch } from '../../../contract/rule.ts';

/** A rule table in memory with the shape of Breakwater's. */
class FakeTable implements RuleTable {
  rules = new Map<string, Rule>();
  addRule(s: Rule) {
    this.rules.set(matchKey(s), s);
  }
  deleteRule(s: RuleMatch) {
    return this.rules.delete(matchKey(s));
  }
  hasRule(s: RuleMatch) {
    return this.rules.has(matchKey(s));
  }
  get ruleCount() {
    return this.rules.size;
  }
}

/** An outcome with its rule's source as text, for assertions. */
const flat = (o: Outcome) => (o.status === 'applied' ? { ...o, rule: { ...o.rule, source: o.rule.source.cidr } } : o);

function ctx(over: Partial<ApplyContext> = {}): ApplyContext & { table: FakeTable } {
  return {
    policy: resolvePolicy({ defaultTtlSeconds: 600, maxTtlSeconds: 7200 }),
    protect: protectedEntries({
      server: ['203.0.113.5'],
      host: ['198.18.10.1', '2001:db8::1'],
      gateway: ['198.18.10.254'],
      allowlist: ['192.0.2.0/24'],
    }),
    maxRules: 3,
    table: new FakeTable(),
    ...over,
  } as ApplyContext & { table: FakeTable };
}

test('an iptables command becomes exactly one XDP rule with the default TTL', (t) => {
  const c = ctx();
  const out = applyCommand({ id: 5, command: 'iptables -I INPUT -s 198.19.0.0/16 -p udp --dport 53 -j DROP' }, c);
  t.deepEqual(flat(out), { id: 5, status: 'applied', rule: { source: '198.19.0.0/16', protocol: 'udp', port: 53, ttlSeconds: 600 } });
  t.is(c.table.ruleCount, 1);
});

test("the server's time-to-live is used, and refused above the maximum", (t) => {
  const c = ctx();
  const ok = applyCommand({ id: 1, command: 'iptables -I INPUT -s 1.2.3.4 -j DROP', rule: { ttl: 90 } }, c);
  t.is(ok.status === 'applied' && ok.rule?.ttlSeconds, 90);
  const long = applyCommand({ id: 2, command: 'iptables -I INPUT -s 1.2.3.5 -j DROP', rule: { ttl: 99_999 } }, c);
  t.deepEqual(long, { id: 2, status: 'failed', reason: 'refused: ttl 99999 s exceeds the maximum of 7200 s' });
});

test('structured commands and deletes', (t) => {
  const c = ctx();
  t.is(applyCommand({ id: 1, command: { action: 'drop', source: '2001:db8:1::/48', ttl_seconds: 60 } }, c).status, 'applied');
  t.is(applyCommand({ id: 2, command: '{"action":"drop","source":"1.2.3.4","protocol":"tcp","port":22}' }, c).status, 'applied');
  t.is(c.table.ruleCount, 2);
  t.deepEqual(flat(applyCommand({ id: 3, command: 'ip6tables -D INPUT -s 2001:db8:1::/48 -j DROP' }, c)), {
    id: 3,
    status: 'applied',
    rule: { source: '2001:db8:1::/48' },
  });
  t.is(c.table.ruleCount, 1);
  t.is(applyCommand({ id: 4, command: 'iptables -D INPUT -s 9.9.9.9 -j DROP' }, c).status, 'applied', 'deleting an absent rule is done');
});

test('refused: grammar, shell, other chains; nothing reaches the table', (t) => {
  const c = ctx();
  for (const command of [
    'iptables -I INPUT -s 1.2.3.4 -j DROP; rm -rf /',
    'iptables -F',
    'iptables -I OUTPUT -s 1.2.3.4 -j DROP',
    'iptables -I INPUT -s 10.0.0.0/8 -j DROP',
    'nft add rule',
    42,
    null,
  ]) {
    const out = applyCommand({ id: 9, command }, c);
    t.is(out.status, 'failed', String(command));
    t.regex(out.status === 'failed' ? out.reason : '', /^refused: /);
  }
  t.is(c.table.ruleCount, 0);
});

test('safety: server, host, gateway and allowlist are never dropped', (t) => {
  const c = ctx();
  const cases: [string, RegExp][] = [
    ['iptables -I INPUT -s 203.0.113.0/24 -j DROP', /server address 203\.0\.113\.5/],
    ['iptables -I INPUT -s 198.18.10.1 -p udp --dport 9 -j DROP', /host address 198\.18\.10\.1/],
    ['iptables -I INPUT -s 198.18.10.254 -j DROP', /gateway/],
    ['iptables -I INPUT -s 192.0.2.7 -j DROP', /allowlist/],
    ['ip6tables -I INPUT -s 2001:db8::/48 -j DROP', /host address 2001:db8::1/],
  ];
  for (const [command, reason] of cases) {
    const out = applyCommand({ id: 1, command }, c);
    t.is(out.status, 'failed', command);
    t.regex(out.status === 'failed' ? out.reason : '', reason);
  }
  t.is(c.table.ruleCount, 0);
});

test('the maximum rule count: new rules fail, refreshing an existing one works', (t) => {
  const c = ctx();
  for (const ip of ['1.1.1.1', '1.1.1.2', '1.1.1.3'])
    t.is(applyCommand({ id: 1, command: `iptables -I INPUT -s ${ip} -j DROP` }, c).status, 'applied');
  t.deepEqual(applyCommand({ id: 7, command: 'iptables -I INPUT -s 1.1.1.4 -j DROP' }, c), {
    id: 7,
    status: 'failed',
    reason: 'rule table full: the agent keeps at most 3 rules',
  });
  t.is(applyCommand({ id: 8, command: 'iptables -I INPUT -s 1.1.1.2 -j DROP' }, c).status, 'applied');
});

test('a kernel error becomes a failed acknowledgement with its message', (t) => {
  const c = ctx();
  c.table.addRule = () => {
    throw new Error('addDropRule: drop-rule map is full (65536 rules)');
  };
  t.deepEqual(applyCommand({ id: 3, command: 'iptables -I INPUT -s 1.2.3.4 -j DROP' }, c), {
    id: 3,
    status: 'failed',
    reason: 'kernel: addDropRule: drop-rule map is full (65536 rules)',
  });
});
