// The incident open across a restart: resumed under its key if an attack
// opens within the hold time, resolved once the hold time passes without
// one; kept on disk only while open.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import test from 'ava';
import { OpenIncident } from '../../../agent/resume.ts';
import type { IncidentFields } from '../../../contract/wire/agent.ts';

const fields = { attack_family: 'udp_flood', severity: 'high' } as IncidentFields;

function dir(t: { teardown(f: () => void): void }): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'bw-resume-'));
  t.teardown(() => fs.rmSync(d, { recursive: true, force: true }));
  return path.join(d, 'open-incident.json');
}

test('a run that stops mid-incident leaves it; the next run resumes it under its key', (t) => {
  const file = dir(t);
  const first = new OpenIncident(file, 10_000);
  const k = first.keyFor('opened', 1, 'boot1-1');
  t.deepEqual(k, { key: 'boot1-1', resumed: false });
  first.record('opened', k.key, fields);
  t.true(fs.existsSync(file), 'kept while open');
  const second = new OpenIncident(file, 10_000);
  t.is(second.pending, 'boot1-1');
  t.deepEqual(second.keyFor('opened', 1, 'boot2-1'), { key: 'boot1-1', resumed: true });
  t.deepEqual(second.keyFor('updated', 1, 'boot2-1'), { key: 'boot1-1', resumed: false }, 'the same incident keeps the key');
  t.is(second.expired(false), null, 'resumed: nothing to resolve');
  second.record('resolved', 'boot1-1', fields);
  t.false(fs.existsSync(file), 'removed once resolved');
  t.deepEqual(second.keyFor('opened', 2, 'boot2-2'), { key: 'boot2-2', resumed: false }, 'the next incident is new');
});

test('no attack within the hold time: the left incident is handed back to be resolved, once', (t) => {
  const file = dir(t);
  new OpenIncident(file, 1).record('updated', 'boot1-4', fields);
  let now = 0;
  const next = new OpenIncident(file, 10_000, () => now);
  t.is(next.expired(false), null, 'within the hold time');
  now = 10_001;
  t.is(next.expired(true), null, 'an attack is open: it will take the incident over');
  t.deepEqual(next.expired(false), { key: 'boot1-4', fields });
  t.is(next.expired(false), null);
  t.false(fs.existsSync(file));
});

test('nothing left, or a broken file: fresh keys', (t) => {
  const file = dir(t);
  t.is(new OpenIncident(file, 1).pending, null);
  fs.writeFileSync(file, '{"key": 5}');
  const o = new OpenIncident(file, 1);
  t.is(o.pending, null);
  t.deepEqual(o.keyFor('opened', 1, 'b-1'), { key: 'b-1', resumed: false });
});
