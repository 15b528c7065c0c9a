import test from 'ava';
import { protectedEntries, resolvePolicy } from '../../../agent/commands/index.ts';
import { AutoMitigation } from '../../../agent/mitigate.ts';
import type { RuleTable } from '../../../agent/rules.ts';
import type { RuleSpec } from '../../../native/index.ts';

function table(): RuleTable & { added: RuleSpec[] } {
  const added: RuleSpec[] = [];
  return { added, addRule: (s) => void added.push(s), deleteRule: () => true, get ruleCount() { return added.length; }, listRules: () => [] };
}

const auto = (max = 8) => new AutoMitigation({ ttlSeconds: 120, maxPerIncident: max, maxRules: 100, policy: resolvePolicy() });
const none = { has: () => false };
const protect = protectedEntries({ server: ['203.0.113.5'], host: [], gateway: [], allowlist: [] });

test('drops the heaviest sources with the TTL', (t) => {
  const tb = table();
  const out = auto().step([{ ip: '198.19.0.1', count: 500 }, { ip: '198.19.0.2', count: 400 }, { ip: '198.19.0.3', count: 10 }], 1000, none, protect, tb);
  t.deepEqual(out, ['198.19.0.1', '198.19.0.2']);
  t.deepEqual(tb.added, [{ source: '198.19.0.1/32', ttlSeconds: 120 }, { source: '198.19.0.2/32', ttlSeconds: 120 }]);
});

test('never a source seen in normal traffic, even the heaviest', (t) => {
  const tb = table();
  const normal = { has: (ip: string) => ip === '198.19.0.9' };
  const top = [{ ip: '198.19.0.9', count: 150 }, ...[1, 2, 3, 4, 5, 6, 7, 8, 9].map((n) => ({ ip: `198.19.1.${n}`, count: 95 }))];
  const out = auto(16).step(top, 1000, normal, protect, tb);
  t.false(out.includes('198.19.0.9'));
  t.is(out.length, 9);
});

test('nothing when a few sources cannot carry the attack (spoofed flood), nor protected ones, and a budget per incident', (t) => {
  const tb = table();
  const a = auto(2);
  t.deepEqual(a.step([{ ip: '198.19.0.1', count: 10 }, { ip: '198.19.0.2', count: 10 }], 100_000, none, protect, tb), []);
  t.deepEqual(a.step([{ ip: '203.0.113.5', count: 900 }], 1000, none, protect, tb), [], 'the server is protected');
  const top = [{ ip: '198.19.0.1', count: 450 }, { ip: '198.19.0.2', count: 450 }, { ip: '198.19.0.3', count: 50 }];
  t.is(a.step(top, 1000, none, protect, tb).length, 2);
  t.deepEqual(a.step([{ ip: '198.19.0.7', count: 900 }], 1000, none, protect, tb), [], 'budget spent');
  a.reset();
  t.deepEqual(a.step([{ ip: '198.19.0.7', count: 900 }], 1000, none, protect, tb), ['198.19.0.7'], 'a new incident, a new budget');
});
