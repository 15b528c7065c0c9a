// Records that own a file (a capture): the file moves into the spool with
// its record, counts towards the bound, leaves with it (sent, or dropped as
// the oldest), survives a restart with it, and a file left without its
// record by a crash is removed at start.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import test from 'ava';
import { Spool } from '../../../agent/spool.ts';

function setup(t: { teardown(f: () => void): void }) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bw-spool-att-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const file = (name: string, bytes: number) => {
    const f = path.join(dir, 'captures', name);
    fs.mkdirSync(path.dirname(f), { recursive: true });
    fs.writeFileSync(f, Buffer.alloc(bytes, 1));
    return f;
  };
  return { dir, file };
}

test('a file moves in with its record, is counted, and leaves with it; a restart finds both', (t) => {
  const { dir, file } = setup(t);
  const spool = new Spool<{ k: string }>(dir, 1 << 20);
  spool.append({ k: 'm' });
  const src = file('a-1.1.pcapng', 10_000);
  const seq = spool.append({ k: 'p' }, src);
  t.false(fs.existsSync(src), 'moved, not copied');
  const held = spool.attachment(seq)!;
  t.is(path.basename(held), `${String(seq).padStart(16, '0')}.pcapng`);
  t.is(fs.statSync(held).size, 10_000);
  t.true(spool.size > 10_000);
  t.is(spool.attachment(seq - 1), undefined);
  spool.close();

  const again = new Spool<{ k: string }>(dir, 1 << 20);
  t.is(again.length, 2);
  t.is(again.attachment(seq), held, 'found again after a restart');
  t.true(again.size > 10_000);
  again.remove(seq);
  t.false(fs.existsSync(held));
  t.true(again.size < 1000);
  again.close();
});

test('over the bound the oldest record goes with its file; a file without a record is removed at start', (t) => {
  const { dir, file } = setup(t);
  const spool = new Spool<{ k: string }>(dir, 25_000);
  const first = spool.append({ k: 'p' }, file('a-1.1.pcapng', 20_000));
  const held = spool.attachment(first)!;
  spool.append({ k: 'p' }, file('a-1.2.pcapng', 20_000));
  t.is(spool.length, 1);
  t.is(spool.dropped, 1);
  t.false(fs.existsSync(held), 'the dropped record took its file along');
  spool.close();

  // A crash between moving a file in and writing its record.
  const orphan = path.join(dir, '0000000000000099.pcapng');
  fs.writeFileSync(orphan, 'x');
  const again = new Spool<{ k: string }>(dir, 25_000);
  t.false(fs.existsSync(orphan));
  t.is(again.length, 1);
  again.close();
});
