// The agent outlives the reader of its log: a process that keeps writing log
// lines after its stderr pipe was closed (the parent that started it died)
// runs on with survivePipeLoss(), and dies without it.
import { spawn } from 'node:child_process';
import test from 'ava';

const LOG = new URL('../../../agent/log.ts', import.meta.url).pathname;
const child = (survive: boolean) => `
const { createLogger, survivePipeLoss } = await import(${JSON.stringify(LOG)});
${survive ? 'survivePipeLoss();' : ''}
const log = createLogger('info');
setInterval(() => log.info('tick'), 20);
setTimeout(() => process.exit(7), 600);
`;

async function exitCode(survive: boolean): Promise<number | null> {
  const c = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', child(survive)], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  c.stderr!.once('data', () => c.stderr!.destroy());
  return new Promise((resolve) => c.once('exit', (code) => resolve(code)));
}

test('log lines to a closed pipe: the process runs on', async (t) => {
  t.is(await exitCode(true), 7, 'ran to its own exit');
});

test('without it the closed pipe kills the process (what the lab test saw)', async (t) => {
  t.not(await exitCode(false), 7);
});
