// The kernel-rules report (agent/kernel-report.ts, agent/rule-report.ts): the body built from the
// addon's listRules entries (expired left out, ICMP types, expiries on the
// server's clock, command rules first when cut), the origins kept from
// commands (with their server rule id), from auto-mitigation's writes and
// from nothing ('unknown'), and the reporter: one report in flight, changes
// coalesced, the backoff after a failure. Every body passes the server's schema.
import test from 'ava';
import { buildReport, entryKey, isAttached, type KernelState, RuleOrigins } from '../../../agent/kernel-report.ts';
import { RuleReporter } from '../../../agent/rule-report.ts';
import { applyCommand, type RuleTable } from '../../../agent/rules.ts';
import { resolvePolicy } from '../../../contract/commands/index.ts';
import { BODY_LIMITS, MAX_KERNEL_RULES_REPORTED, MAX_VALUES } from '../../../contract/limits.ts';
import { prefixOf } from '../../../contract/net/prefix.ts';
import { matchKey, type Rule, type RuleMatch } from '../../../contract/rule.ts';
import { kernelRulesReport } from '../../../contract/wire/kernel-rules.ts';
import type { ProgramInfo, RuleEntry } from '../../../native/index.ts';

const log = { debug() {}, info() {}, warn() {}, error() {} } as never;
const HOUR = Date.now() + 3600_000;

const entry = (address: string, prefixLen: number, extra: Partial<RuleEntry> = {}): RuleEntry => ({
  family: address.includes(':') ? 6 : 4,
  address,
  prefixLen,
  protocol: null,
  port: 0,
  classBit: 1,
  mode: 'drop',
  expiresAt: HOUR,
  expired: false,
  slot: 0,
  packets: 0,
  bytes: 0,
  ...extra,
});
const state = (rules: RuleEntry[], extra: Partial<KernelState> = {}): KernelState => ({
  rules,
  killSwitch: false,
  attached: true,
  ...extra,
});
const accepted = (t: import('ava').ExecutionContext, body: unknown) => {
  const r = kernelRulesReport.safeParse(JSON.parse(JSON.stringify(body)));
  t.true(r.success, JSON.stringify(r.error?.issues));
};

test('the key of a kernel entry is the contract matchKey of its match', (t) => {
  t.is(entryKey(entry('198.18.0.0', 15)), matchKey({ source: prefixOf('198.18.0.0/15') }));
  t.is(
    entryKey(entry('198.18.0.7', 32, { protocol: 'udp', port: 53 })),
    matchKey({ source: prefixOf('198.18.0.7'), protocol: 'udp', port: 53 }),
  );
  t.is(
    entryKey(entry('::', 0, { protocol: 'icmp', icmpType: 128 })),
    matchKey({ source: prefixOf('::/0'), protocol: 'icmp', icmpType: 128 }),
  );
});

test('the body: every rule in force with its match, mode, expiry, origin and hits; expired ones left out', (t) => {
  const o = new RuleOrigins();
  o.command({ source: prefixOf('198.18.0.7') }, 42);
  o.local({ source: prefixOf('0.0.0.0/0'), protocol: 'icmp', icmpType: 8 });
  const body = buildReport(
    state(
      [
        entry('198.18.0.7', 32, { packets: 1200, bytes: 72_000 }),
        entry('0.0.0.0', 0, { protocol: 'icmp', icmpType: 8, expiresAt: 0 }),
        entry('2001:db8::', 48, { protocol: 'udp', port: 53, mode: 'log' }),
        entry('198.18.0.8', 32, { expired: true, expiresAt: Date.now() - 1 }),
      ],
      { killSwitch: true, xdpMode: 'native' },
    ),
    o,
    60_000,
  );
  t.deepEqual(body, {
    rules: [
      {
        source: '198.18.0.7/32',
        mode: 'drop',
        expires_at: new Date(HOUR + 60_000).toISOString(),
        origin: 'command',
        rule_id: 42,
        packets: 1200,
        bytes: 72_000,
      },
      { source: '0.0.0.0/0', protocol: 'icmp', icmp_type: 8, mode: 'drop', expires_at: null, origin: 'local', packets: 0, bytes: 0 },
      {
        source: '2001:db8::/48',
        protocol: 'udp',
        port: 53,
        mode: 'log',
        expires_at: new Date(HOUR + 60_000).toISOString(),
        origin: 'unknown',
        packets: 0,
        bytes: 0,
      },
    ],
    kill_switch: true,
    attached: true,
    xdp_mode: 'native',
  });
  accepted(t, body);
  accepted(t, buildReport(state([]), o));
});

test('past the bound, command rules first, and truncated said', (t) => {
  const o = new RuleOrigins();
  const rules = Array.from({ length: 10 }, (_, i) => entry(`198.18.0.${i}`, 32));
  for (const i of [7, 8]) o.command({ source: prefixOf(`198.18.0.${i}`) }, i + 100);
  const body = buildReport(state(rules), o, 0, 4);
  t.true(body.truncated);
  t.is(body.rules.length, 4);
  t.deepEqual(
    body.rules.slice(0, 2).map((r) => r.rule_id),
    [107, 108],
  );
  t.false('truncated' in buildReport(state(rules), o, 0, 10));
});

test('origins of rules the kernel no longer holds are forgotten', (t) => {
  const o = new RuleOrigins();
  o.local({ source: prefixOf('198.18.0.1') });
  buildReport(state([]), o);
  t.is(o.of(matchKey({ source: prefixOf('198.18.0.1') })), undefined);
});

/** A rule table in memory. */
function table(): RuleTable & { rules: Map<string, Rule> } {
  const rules = new Map<string, Rule>();
  return {
    rules,
    addRule: (r) => void rules.set(matchKey(r), r),
    deleteRule: (m: RuleMatch) => rules.delete(matchKey(m)),
    hasRule: (m: RuleMatch) => rules.has(matchKey(m)),
    get ruleCount() {
      return rules.size;
    },
  };
}

test('origins: a command with its server rule id, removed by its delete; auto-mitigation writes are local', (t) => {
  const tb = table();
  let kicks = 0;
  const client = { clockOffsetMs: 0, request: async () => ({}) };
  const rep = new RuleReporter({ client, log, read: () => state([]), active: () => false });
  (rep as unknown as { changed(): void }).changed = () => void kicks++;
  const ctx = { policy: resolvePolicy(), protect: [], maxRules: 10, table: tb };
  const add = {
    id: 5,
    command: 'iptables -I INPUT -s 198.18.0.0/16 -j DROP',
    rule: { rule_id: 77, op: 'add' as const, source: '198.18.0.0/16', ttl: 60 },
  };
  rep.afterCommand(add, applyCommand(add, ctx), tb);
  const key = matchKey({ source: prefixOf('198.18.0.0/16') });
  t.deepEqual(rep.origins.of(key), { origin: 'command', ruleId: 77 });
  const refused = { id: 6, command: 'iptables -I INPUT -s 127.0.0.1 -j DROP' };
  rep.afterCommand(refused, applyCommand(refused, ctx), tb);
  t.is(kicks, 0, 'commands are reported once answered (CommandRunner)');
  const del = { id: 7, command: 'iptables -D INPUT -s 198.18.0.0/16 -j DROP' };
  rep.afterCommand(del, applyCommand(del, ctx), tb);
  t.is(rep.origins.of(key), undefined);
  const local = rep.localTable(tb);
  local.addRule({ source: prefixOf('198.19.0.9'), ttlSeconds: 60 });
  t.true(tb.hasRule({ source: prefixOf('198.19.0.9') }));
  t.is(local.ruleCount, 1);
  t.deepEqual(rep.origins.of(matchKey({ source: prefixOf('198.19.0.9') })), { origin: 'local' });
  t.is(kicks, 1, 'an auto rule is reported at once');
});

test('attached: open, and the link still pinned', (t) => {
  const info = (o: Partial<ProgramInfo>): ProgramInfo => ({
    open: true,
    iface: 'eth0',
    ifindex: 2,
    mode: 'native',
    adopted: false,
    upgraded: false,
    pinDir: null,
    possibleCpus: 1,
    ...o,
  });
  t.true(isAttached(info({})));
  t.false(isAttached(info({ open: false })));
  t.false(isAttached(info({ pinDir: '/nonexistent/breakwater/eth0' })), 'pins removed by agent detach');
});

test('the reporter: a report at start, one in flight, changes coalesced, the backoff after a failure', async (t) => {
  const sent: unknown[] = [];
  let release: () => void = () => {};
  let fail = false;
  const client = {
    clockOffsetMs: 0,
    request: async (_m: string, path: string, body: unknown) => {
      t.is(path, '/rules');
      sent.push(body);
      await new Promise<void>((r) => (release = r));
      if (fail) throw new Error('down');
      return {};
    },
  };
  let rules = [entry('198.18.0.1', 32)];
  const rep = new RuleReporter({ client, log, read: () => state(rules), active: () => true, coalesceMs: 60 });
  const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));
  rep.start();
  await wait(20);
  t.is(sent.length, 1, 'at start');
  rules = [entry('198.18.0.1', 32), entry('198.18.0.2', 32)];
  rep.changed();
  release();
  await wait(20);
  rep.changed();
  t.is(sent.length, 1, 'not before coalesceMs, though none is in flight');
  await wait(80);
  t.is(sent.length, 2, 'the changes, in one report');
  t.is((sent[1] as { rules: unknown[] }).rules.length, 2);
  rep.changed();
  await wait(80);
  t.is(sent.length, 2, 'not while one is in flight');
  release();
  await wait(20);
  t.is(sent.length, 3, 'the change made while one was in flight, after it');
  fail = true;
  release();
  await wait(20);
  t.is(rep.stats.failed, 1);
  rep.changed();
  await wait(80);
  t.is(sent.length, 3, 'after a failure the backoff decides, not the changes');
  const stopping = rep.stop();
  release();
  await stopping;
});

test('a full report of the largest rules fits the body limit and the values bound', (t) => {
  const o = new RuleOrigins();
  const big = entry('2001:db8:1234:5678:9abc:def0:1234:5678', 128, {
    protocol: 'icmp',
    icmpType: 255,
    packets: Number.MAX_SAFE_INTEGER,
    bytes: Number.MAX_SAFE_INTEGER,
  });
  o.command({ source: prefixOf('2001:db8:1234:5678:9abc:def0:1234:5678'), protocol: 'icmp', icmpType: 255 }, Number.MAX_SAFE_INTEGER);
  const one = buildReport(state([big], { xdpMode: 'x'.repeat(32) }), o).rules[0]!;
  const rule = JSON.stringify({ ...one, port: 65_535 }).length + 1;
  t.true(rule * MAX_KERNEL_RULES_REPORTED + 200 < BODY_LIMITS.rules, `${rule} bytes a rule`);
  // A rule is at most 11 values (itself and its 10 fields); the envelope a few more.
  t.true(MAX_KERNEL_RULES_REPORTED * 11 + 10 < MAX_VALUES);
});
