// Gates for tests that need root, BPF, namespaces or a real PostgreSQL.
// Where such a test cannot run it is skipped with the reason, except under
// CI=true, where a skip would hide a missing install step: there it fails.

import { existsSync } from 'node:fs';
import type { TestFn } from 'ava';

export const inCI = process.env.CI === 'true';

/** Returns null when the requirement holds, else a sentence saying what is missing. */
export type Requirement = () => string | null;

export const isRoot: Requirement = () => (process.getuid?.() === 0 ? null : 'needs root (BPF, XDP and network namespaces)');

/**
 * Registers the tests of a file only when every requirement holds; otherwise
 * one placeholder test that skips (or fails under CI) with the reason.
 */
export function requireOrSkip<T>(test: TestFn<T>, ...reqs: Requirement[]): boolean {
  for (const req of reqs) {
    const why = req();
    if (why === null) continue;
    if (inCI) {
      test('privileged requirements', (t) => t.fail(`cannot run under CI: ${why}`));
    } else {
      test.skip(`skipped: ${why}`, () => {});
      console.warn(`[skip] ${why}`);
    }
    return false;
  }
  return true;
}

/** The named programs are on PATH. */
export function commands(...names: string[]): Requirement {
  return () => {
    const path = (process.env.PATH ?? '').split(':');
    const missing = names.filter((n) => !path.some((dir) => existsSync(`${dir}/${n}`)));
    return missing.length ? `missing ${missing.join(', ')}: run npm run setup (as root)` : null;
  };
}
