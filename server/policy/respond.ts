// The server's own response: after each incident report it judges the
// workspace's enabled policies (decide.ts) against the incident and makes
// their rules, each held to what a default agent accepts and to the safety
// check (rule-check.ts), saying in its reason which policy made it and why;
// the push channel brings them to the agents at once. All of one incident's
// judging runs in one transaction with the incident locked, so reports that
// race make each rule once. A dry run makes log-only rules (the kernel
// counts, drops nothing), marked and withdrawn as the others; a match that a
// rule in force already holds is left to that rule. Every decision that
// acted goes on the incident's timeline ('policy'). Rules a policy made are withdrawn once
// their incident has been resolved for the policy's grace time (checked
// every WITHDRAW_EVERY_MS by each process; withdrawing twice is harmless).
import type { Db } from '../db.ts';
import type { Logger } from '../log.ts';
import { addEvent } from '../sql/incidents.ts';
import { withdrawRules } from '../sql/mitigations.ts';
import { dueWithdrawals, history, listPolicies, lockIncident, recordFiring } from '../sql/policies.ts';
import { decide, type Policy } from './decide.ts';
import { makeRules } from './make-rules.ts';

export const WITHDRAW_EVERY_MS = 5_000;

export class Responder {
  private readonly running = new Set<Promise<void>>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly db: Db,
    private readonly log: Logger,
  ) {}

  start(): void {
    this.timer = setInterval(() => this.track(this.withdrawDue()), WITHDRAW_EVERY_MS);
    this.timer.unref();
  }

  /** After a report of the incident was stored: judged in the background (the agent's reply does not wait). */
  onReport(incidentId: number): void {
    this.track(this.judge(incidentId));
  }

  private track(p: Promise<unknown>): void {
    const q = p.then(
      () => {},
      (e: Error) => this.log.error('response policies failed', { error: e.message }),
    );
    this.running.add(q);
    void q.finally(() => this.running.delete(q));
  }

  /** Judges every enabled policy of the incident's workspace; returns the ids of the rules made. */
  async judge(incidentId: number): Promise<number[]> {
    return this.db.withTransaction(async (c) => {
      const inc = await lockIncident(c, incidentId);
      if (inc?.status !== 'open') return [];
      const made: number[] = [];
      for (const p of (await listPolicies(c, inc.workspace_id, true)) as unknown as Policy[]) {
        const d = decide(p, inc, await history(c, p, inc), Date.now());
        if (!d.act) continue;
        const { rules, refused, skipped } = await makeRules(c, p, inc, d);
        for (const r of rules) made.push(r.id);
        await recordFiring(
          c,
          p,
          inc,
          d.rules.map((r) => r.key),
        );
        await addEvent(c, inc.id, 'policy', {
          policy_id: p.id,
          name: p.name,
          action: p.action.type,
          dry_run: p.dry_run,
          scope: p.scope,
          why: d.why,
          rules,
          refused,
          skipped,
        });
      }
      return made;
    });
  }

  /** Withdraws the policy rules whose incident resolved past their grace; returns how many. */
  async withdrawDue(): Promise<number> {
    const due = await dueWithdrawals(this.db);
    // A workspace's due rules in one transaction: each node gets one push with all its removals.
    const byWorkspace = new Map<number, number[]>();
    for (const r of due) {
      const ids = byWorkspace.get(r.workspace_id) ?? [];
      ids.push(r.id);
      byWorkspace.set(r.workspace_id, ids);
    }
    for (const [ws, ids] of byWorkspace) await this.db.withTransaction((c) => withdrawRules(c, ws, ids));
    return due.length;
  }

  /** Resolves when the judging started so far has ended (tests; stop). */
  async idle(): Promise<void> {
    while (this.running.size) await Promise.all(this.running);
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.idle();
  }
}
