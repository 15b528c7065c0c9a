// A tick never fails on the talker tables: snapshot() of a full source table
// that a spoofed flood rewrites during the read (another process drives the
// pinned program through BPF_PROG_TEST_RUN) returns every time, with the
// entries the walk met but could not keep counted in talkersCut. The old
// read failed here with "No space left on device", losing the agent's tick.

import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import test from 'ava';
import { Breakwater, limits } from '../../native/index.ts';
import { createLab } from '../helpers/netns.ts';
import { eth, ipv4, udp } from '../helpers/packets.ts';
import { commands, isRoot, type Requirement, requireOrSkip } from '../helpers/privileged.ts';
import { canLoadXdp } from '../helpers/xdp.ts';

const taskset = (...args: string[]) => execFileSync('taskset', args, { encoding: 'utf8' });
/** The CPUs this process may run on ("0-1,4" -> [0, 1, 4]). */
const allowedCpus = () =>
  taskset('-pc', String(process.pid))
    .split(':')
    .pop()!
    .trim()
    .split(',')
    .flatMap((r) => {
      const [a, b = a] = r.split('-').map(Number);
      return Array.from({ length: b! - a! + 1 }, (_, i) => a! + i);
    });
const twoCpus: Requirement = () => (allowedCpus().length >= 2 ? null : 'needs two CPUs: a read racing a flood');

if (requireOrSkip(test, isRoot, canLoadXdp, commands('ip', 'taskset'), twoCpus)) {
  test.serial('snapshots of a full talker table under churn all succeed and count what they cut', async (t) => {
    const lab = createLab(`tk${process.pid % 10000}`, 32);
    const bw = Breakwater.attach(lab.victimIf, { netns: lab.victimNs, mode: 'generic' });
    // The race needs both at once: this process on one CPU, the flood on
    // another (a busy machine would otherwise often run them in turns).
    const cpus = allowedCpus();
    taskset('-pc', String(cpus[0]), String(process.pid));
    const churn = spawn(
      'taskset',
      [
        '-c',
        String(cpus[1]),
        process.execPath,
        '--import',
        'tsx',
        'test/helpers/talker-churn.ts',
        `${bw.info.pinDir}/prog`,
        '5000000',
        '8',
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    t.teardown(() => {
      churn.kill('SIGKILL');
      taskset('-pc', cpus.join(','), String(process.pid));
      bw.detach();
      lab.destroy();
    });
    bw.setTalkerSampling(1);
    // Fill the table: twice as many distinct sources as it holds.
    const frame = eth(ipv4(udp()));
    for (let i = 0; i < 2 * limits.maxSourceTalkers; i++) {
      frame.writeUInt32BE(0xc6120000 + i, 14 + 12);
      bw.testRun(frame);
    }
    t.is(bw.snapshot(32).talkersCut, 0, 'a full table that holds still is read whole');
    const exited = once(churn, 'exit');
    await once(churn.stdout!, 'data'); // "ready"
    const failures: string[] = [];
    let reads = 0,
      cutReads = 0,
      cut = 0;
    while (churn.exitCode === null && (cutReads < 20 || reads < 200)) {
      try {
        const s = bw.snapshot(32);
        t.is(s.topSources.length, 32);
        t.is(typeof s.talkersCut, 'number');
        if (s.talkersCut! > 0) cutReads++;
        cut += s.talkersCut!;
      } catch (e) {
        failures.push((e as Error).message);
      }
      reads++;
      await new Promise((r) => setImmediate(r));
    }
    churn.kill('SIGTERM');
    await exited;
    t.log(`${reads} reads, ${cutReads} of them cut ${cut} entries in all`);
    t.deepEqual(failures.slice(0, 3), [], 'no read failed');
    t.true(cutReads > 0, 'the churn made some reads meet more entries than the table holds, and they said so');
    t.true(cut / cutReads < limits.maxSourceTalkers / 10, 'a cut is a few entries, not the table');
  });
}
