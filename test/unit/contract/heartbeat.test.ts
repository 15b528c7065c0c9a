// The heartbeat the agent builds (agent/bodies.ts heartbeatBody, from the
// addon's kill switch and rule entries) passes the server's schema
// (contract/wire/agent.ts heartbeat) with its kernel-state extensions; an
// older agent's body without them still does; a bad extension is refused,
// named by its field.
import test from 'ava';
import { heartbeatBody } from '../../../agent/bodies.ts';
import * as A from '../../../contract/wire/agent.ts';
import type { RuleEntry } from '../../../native/index.ts';

const parse = (v: unknown) => A.heartbeat.safeParse(JSON.parse(JSON.stringify(v)));

const entry = (address: string, mode: 'drop' | 'log', expired = false): RuleEntry => ({
  family: 4,
  address,
  prefixLen: 32,
  protocol: null,
  port: 0,
  classBit: 1,
  mode,
  expiresAt: expired ? Date.now() - 1000 : 0,
  expired,
  slot: 0,
  packets: 0,
  bytes: 0,
});

test('the kernel state: kill switch, log-only rules and all rules, expired ones left out', (t) => {
  const rules = [entry('198.18.0.1', 'drop'), entry('198.18.0.2', 'log'), entry('198.18.0.3', 'log'), entry('198.18.0.4', 'log', true)];
  const body = heartbeatBody('0.1.0', 12.7, 'Debian GNU/Linux 12 (bookworm)', { killSwitch: true, rules });
  t.deepEqual(body, {
    agent_version: '0.1.0',
    uptime: 12,
    os: 'Debian GNU/Linux 12 (bookworm)',
    kill_switch: true,
    log_only_rules: 2,
    rules_in_kernel: 3,
  });
  const r = parse(body);
  t.true(r.success, JSON.stringify(r.error?.issues));
  t.deepEqual(r.data, body);
  const empty = parse(heartbeatBody('0.1.0', 1, 'x', { killSwitch: false, rules: [] }));
  t.true(empty.success);
  t.like(empty.data, { kill_switch: false, log_only_rules: 0, rules_in_kernel: 0 });
});

test('a kernel that could not be read, and an older agent: SPEC fields only, still valid', (t) => {
  const body = heartbeatBody('0.1.0', 5, 'Ubuntu 22.04');
  t.deepEqual(Object.keys(body).sort(), ['agent_version', 'os', 'uptime']);
  t.true(parse(body).success);
  t.true(parse({}).success);
});

test('bad extension values are refused, named by their field', (t) => {
  for (const [field, value] of [
    ['kill_switch', 'yes'],
    ['kill_switch', 1],
    ['log_only_rules', -1],
    ['log_only_rules', 1.5],
    ['rules_in_kernel', 2 ** 31],
    ['rules_in_kernel', '3'],
  ] as const) {
    const r = A.heartbeat.safeParse({ agent_version: '0.1.0', [field]: value });
    t.false(r.success, `${field}: ${JSON.stringify(value)}`);
    t.deepEqual(r.error?.issues[0]?.path, [field]);
  }
});
