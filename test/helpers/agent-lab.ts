// The lab of an agent integration test: no legitimate background, the agent
// from its sources with production poll periods, started by the test itself
// (run.startAgent(flags)); removed when the test ends.
import type { ExecutionContext } from 'ava';
import { type LabRun, startLab } from '../../scripts/lab/index.ts';
import { freshDataDir } from '../server/_harness.ts';

export async function agentLab(t: ExecutionContext, tag: string, subnet: number, o: { autoMitigate?: boolean } = {}): Promise<LabRun> {
  const run = await startLab({
    id: `${tag}${process.pid % 1000}`,
    subnet,
    dataDir: await freshDataDir(),
    traffic: false,
    agent: { from: 'source', polling: 'production', start: false, ...o },
  });
  t.teardown(() => run.close());
  return run;
}
