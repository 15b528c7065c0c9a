// A veth lab of one test with the program attached natively to its victim
// side: both removed when the test ends, whatever happened.
import type { ExecutionContext } from 'ava';
import { Breakwater } from '../../native/index.ts';
import { createLab, type Lab } from './netns.ts';

export interface ProgramLab {
  lab: Lab;
  /** Attaches the program to the victim's interface (detached at the end of the test). */
  attach(): Breakwater;
}

export function programLab(t: ExecutionContext, id: string, subnet: number): ProgramLab {
  const lab = createLab(id, subnet);
  let bw: Breakwater | undefined;
  t.teardown(() => {
    try {
      bw?.detach();
    } finally {
      lab.destroy();
    }
  });
  return { lab, attach: () => (bw = Breakwater.attach(lab.victimIf, { netns: lab.victimNs, mode: 'native' })) };
}
