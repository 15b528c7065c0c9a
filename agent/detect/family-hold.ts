/**
 * The family an open incident reports changes only when a new one has held
 * on every attack tick for familyHoldMs. A flood's own mitigation reshapes
 * its traffic for a moment: an HTTP flood whose clients are dropped in the
 * middle of its connection ramp sends SYNs that never become requests, and
 * for a few hundred ms its excess reads as an HTTP and a SYN flood together
 * (multi_vector http+syn), then as the HTTP flood again. Reported as it was
 * classified, the incident would flap between families, and so would
 * whatever acts on the family (policies, and later notifications). A vector
 * that really joins (a second flood) holds, and is reported as soon as it
 * has: the detector then sends an update at once. Within the reported
 * family the sub-type and vectors follow every tick. Pure.
 */
import type { Classification } from './classify.ts';

export class FamilyHold {
  private shown: Classification;
  private candidate: { family: Classification['family']; sinceMs: number } | null = null;

  constructor(
    first: Classification,
    private readonly holdMs: number,
  ) {
    this.shown = first;
  }

  /** The classification to report. */
  get current(): Classification {
    return this.shown;
  }

  /** One attack tick's classification; true when the reported family changed with it. */
  observe(c: Classification, nowMs: number): boolean {
    if (c.family === this.shown.family) {
      this.shown = c;
      this.candidate = null;
      return false;
    }
    if (this.candidate?.family !== c.family) {
      this.candidate = { family: c.family, sinceMs: nowMs };
      return false;
    }
    if (nowMs - this.candidate.sinceMs < this.holdMs) return false;
    this.shown = c;
    this.candidate = null;
    return true;
  }
}
