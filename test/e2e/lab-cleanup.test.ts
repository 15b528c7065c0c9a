// The lab's crash clean-up (scripts/lab/records.ts): a run killed with
// SIGKILL leaves its namespaces, its agent process and its directories
// behind; the next start of any lab removes them, because the process that
// recorded them is gone. (The start with the same id does it too, and
// refuses an id whose process still runs.)

import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import test from 'ava';
import { startLab } from '../../scripts/lab/index.ts';
import { until } from '../../scripts/lab/wait.ts';
import { commands, isRoot, requireOrSkip } from '../helpers/privileged.ts';
import { canLoadXdp } from '../helpers/xdp.ts';
import { freshDataDir } from '../server/_harness.ts';

// Starts a lab with an agent, prints what it made, then waits to be killed.
const CRASHING = `
const { startLab } = await import(${JSON.stringify(new URL('../../scripts/lab/index.ts', import.meta.url).pathname)});
const run = await startLab({ id: process.argv[1], subnet: 62, traffic: false, dataDir: process.argv[2] });
process.stdout.write(JSON.stringify({ agentPid: run.agent.child.pid, dirs: [process.argv[2]] }) + '\\n');
setInterval(() => {}, 1000);
`;

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]![0] !== 'Z';
  } catch {
    return false;
  }
};
const namespaces = () => execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' });

if (requireOrSkip(test, isRoot, canLoadXdp, commands('ip'))) {
  test.serial('a lab killed with SIGKILL is removed by the next start of another lab', async (t) => {
    const dead = `x${process.pid % 1000}`,
      next = `y${process.pid % 1000}`;
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', CRASHING, dead, await freshDataDir()], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    t.teardown(() => {
      child.kill('SIGKILL');
    });
    const made = await new Promise<{ agentPid: number; dirs: string[] }>((resolve, reject) => {
      let out = '';
      child.stdout!.on('data', (d) => {
        out += d;
        if (out.includes('\n')) resolve(JSON.parse(out));
      });
      child.once('exit', (code) => reject(new Error(`the crashing lab exited with ${code} before it was up`)));
    });
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    t.regex(namespaces(), new RegExp(`bwv-${dead}\\b`), 'the killed run left its victim namespace');
    t.true(alive(made.agentPid), 'and its agent');
    t.true(fs.existsSync(`/run/breakwater-lab/${dead}.json`), 'and its record');

    const run = await startLab({ id: next, subnet: 63, traffic: false, agent: { start: false }, dataDir: await freshDataDir() });
    t.teardown(() => run.close());
    t.false(namespaces().includes(`bwv-${dead}`) || namespaces().includes(`bwa-${dead}`), 'namespaces removed');
    t.truthy(await until(() => !alive(made.agentPid), 5_000, 50), 'agent killed');
    t.false(
      made.dirs.some((d) => fs.existsSync(d)),
      'directories removed',
    );
    t.false(fs.existsSync(`/sys/fs/bpf/breakwater/netns-bwv-${dead}`), 'pins removed');
    t.false(fs.existsSync(`/run/breakwater-lab/${dead}.json`), 'record removed');
  });
}
