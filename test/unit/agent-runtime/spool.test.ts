import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import test from 'ava';
import { Spool } from '../../../agent/spool.ts';

const tmp = (t: { teardown(fn: () => void): void }) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bw-spool-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
};

test('records come back in order and leave only when removed', (t) => {
  const dir = tmp(t);
  const s = new Spool<{ n: number }>(dir, 1 << 20);
  for (let n = 0; n < 5; n++) s.append({ n });
  t.deepEqual(
    s.peek(3).map((e) => e.record.n),
    [0, 1, 2],
  );
  s.remove(s.peek(1)[0]!.seq);
  t.deepEqual(
    s.peek(10).map((e) => e.record.n),
    [1, 2, 3, 4],
  );
  s.close();
  const again = new Spool<{ n: number }>(dir, 1 << 20);
  t.deepEqual(
    again.peek(10).map((e) => e.record.n),
    [1, 2, 3, 4],
    'reopened: same records, same order',
  );
  const seq = again.append({ n: 5 });
  t.is(seq, 6, 'numbering goes on after the newest record');
  again.close();
});

test('bounded in bytes: the oldest records are dropped and counted', (t) => {
  const dir = tmp(t);
  const s = new Spool<{ pad: string; n: number }>(dir, 1000);
  for (let n = 0; n < 20; n++) s.append({ pad: 'x'.repeat(90), n });
  t.true(s.size <= 1000);
  t.is(s.dropped, 20 - s.length);
  t.is(s.peek(100).at(-1)?.record.n, 19, 'the newest is kept');
  t.is(fs.readdirSync(dir).filter((f) => f.endsWith('.rec')).length, s.length);
  s.close();
});

test('kill -9 while appending: every record on disk is whole, contiguous, and readable', async (t) => {
  const dir = tmp(t);
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      '-e',
      `
    import('${new URL('../../../agent/spool.ts', import.meta.url).href}').then(({ Spool }) => {
      const s = new Spool(${JSON.stringify(dir)}, 1 << 30);
      let n = 0;
      for (;;) { s.append({ n, body: 'y'.repeat(n % 500) }); if (n++ === 20) process.stdout.write('go\\n'); }
    });`,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
  await new Promise((r) => setTimeout(r, 300));
  child.kill('SIGKILL');
  await new Promise((r) => child.once('exit', r));
  fs.writeFileSync(path.join(dir, '.tmp-999999'), 'half a record'); // as a kill during a write leaves it
  const onDisk = fs.readdirSync(dir).filter((f) => f.endsWith('.rec')).length;
  const s = new Spool<{ n: number; body: string }>(dir, 1 << 30);
  const all = s.peek(1e6);
  t.is(all.length, onDisk, 'every record file under its final name decodes whole');
  t.true(all.length > 20, `records written before the kill: ${all.length}`);
  all.forEach((e, i) => {
    t.is(e.record.n, i);
    t.is(e.seq, i + 1);
    t.is(e.record.body.length, i % 500);
  });
  t.is(s.length, all.length, 'nothing unreadable');
  t.false(
    fs.readdirSync(dir).some((f) => f.startsWith('.tmp-')),
    'partial writes are cleaned up',
  );
  s.close();
});
