// lib/pid-lock.ts: one process at a time on a directory; a pid file left by a
// process that is gone never blocks, also when its PID now belongs to another
// live process (a reused PID, a container restart where we are that PID).
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import test from 'ava';
import { LockBusy, lockDir, startTicks } from '../../lib/pid-lock.ts';

const linux = fs.existsSync('/proc/self/stat');
const boot = linux ? fs.readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim() : '';

async function withDir(fn: (dir: string, pidFile: string, other: number) => unknown) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bw-lock-'));
  // A live process unrelated to any lock, whose PID a stale file may name.
  const child = spawn('sleep', ['60'], { stdio: 'ignore' });
  await new Promise((resolve) => child.once('spawn', resolve));
  try {
    await fn(dir, path.join(dir, 'breakwater.pid'), child.pid!);
  } finally {
    child.kill();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
const owner = (file: string) => Number(fs.readFileSync(file, 'utf8').split(' ')[0]);

test('one holder per directory; the release removes the file', (t) =>
  withDir((dir, file) => {
    const release = lockDir(dir);
    t.is(owner(file), process.pid);
    t.throws(() => lockDir(dir), { instanceOf: LockBusy, message: `${dir} is already open in this process` });
    release();
    t.false(fs.existsSync(file));
    lockDir(dir)();
    t.deepEqual(fs.readdirSync(dir), [], 'nothing left beside it');
  }));

test('a live process holding the file refuses the lock, naming it', (t) =>
  withDir((dir, file, other) => {
    if (!linux) return t.pass('no /proc: start times cannot be read');
    const held = `${other} ${startTicks(other)} ${boot}\n`;
    fs.writeFileSync(file, held);
    const err = t.throws(() => lockDir(dir), { instanceOf: LockBusy, message: `${dir} is in use by process ${other}` });
    t.is(err?.pid, other);
    t.is(fs.readFileSync(file, 'utf8'), held, 'the holder keeps its file');
  }));

test('a stale file never blocks: reused PID, our own PID, a dead PID, another boot, garbage', (t) =>
  withDir((dir, file, other) => {
    if (!linux) return t.pass('no /proc: start times cannot be read');
    const dead = spawnSync('true').pid;
    const stale = [
      `${other} ${Number(startTicks(other)) - 100} ${boot}`, // the PID now belongs to a process started later
      `${process.ppid} 1 ${boot}`, // a live process, the test's parent, with another start time
      `${process.pid} ${Number(startTicks(process.pid)) - 1} ${boot}`, // a container restart: we are that PID now
      `${other} ${startTicks(other)} 00000000-0000-0000-0000-000000000000`, // written before a reboot
      `${dead} 12345 ${boot}`,
      'garbage',
      '',
    ];
    for (const content of stale) {
      fs.writeFileSync(file, `${content}\n`);
      const release = lockDir(dir);
      t.is(owner(file), process.pid, content);
      release();
    }
  }));

test('a file of an older version (PID alone) is stale when that process started after the file was written', (t) =>
  withDir((dir, file, other) => {
    if (!linux) return t.pass('no /proc: start times cannot be read');
    fs.writeFileSync(file, String(other));
    const hourAgo = new Date(Date.now() - 3_600_000);
    fs.utimesSync(file, hourAgo, hourAgo);
    lockDir(dir)();
    fs.writeFileSync(file, String(other)); // written after that process started: it may be the owner
    t.throws(() => lockDir(dir), { instanceOf: LockBusy, message: `${dir} is in use by process ${other}` });
  }));

test('the release leaves a file that is not ours', (t) =>
  withDir((dir, file, other) => {
    const release = lockDir(dir);
    fs.writeFileSync(file, `${other} 1 ${boot}\n`);
    release();
    t.true(fs.existsSync(file));
  }));

test('processes racing for a directory with a stale file: exactly one wins', (t) =>
  withDir(async (dir, file) => {
    if (!linux) return t.pass('no /proc: start times cannot be read');
    fs.writeFileSync(file, `${process.ppid} 1 ${boot}\n`);
    const lib = new URL('../../lib/pid-lock.ts', import.meta.url).href;
    // The winner holds the lock until it is killed, so a late starter cannot find it gone.
    const script = `const { lockDir } = await import(${JSON.stringify(lib)});
    try { lockDir(${JSON.stringify(dir)}); console.log('won'); setInterval(() => {}, 1000); } catch (e) { console.log(e.code); }`;
    const children = Array.from({ length: 6 }, () =>
      spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] }),
    );
    try {
      const results = await Promise.all(
        children.map(
          (p) =>
            new Promise<string>((resolve) => {
              let out = '';
              p.stdout!.on('data', (c) => {
                out += c;
                if (out.includes('\n')) resolve(out.trim());
              });
              p.on('exit', () => resolve(out.trim()));
            }),
        ),
      );
      t.is(results.filter((r) => r === 'won').length, 1, results.join(' '));
      t.is(results.filter((r) => r === 'EBUSY').length, 5, results.join(' '));
    } finally {
      for (const p of children) p.kill();
    }
  }));
