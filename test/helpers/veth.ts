// A veth lab of one test with the program attached natively to its victim
// side: both removed when the test ends, whatever happened (also when the
// test closed its handle, or another process adopted the pins).
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
  t.teardown(() => {
    try {
      Breakwater.detachInterface(lab.victimIf, { netns: lab.victimNs });
    } catch {
      /* never attached */
    } finally {
      lab.destroy();
    }
  });
  return { lab, attach: () => Breakwater.attach(lab.victimIf, { netns: lab.victimNs, mode: 'native' }) };
}
