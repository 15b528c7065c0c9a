/**
 * The kernel's rules, reported to the server (POST /api/v1/agent/rules,
 * contract/wire/kernel-rules.ts) so that it knows what is really enforced:
 * each rule's match, mode, expiry, hit counters and origin, and the
 * program's state. Sent at start (after a restart or a reboot the server
 * compares it with what it holds in force and sends again what is missing),
 * REPORT_COALESCE_MS after a change (changed(): the changes of a burst in one
 * report), and every 5 s during an incident, 60 s otherwise; one report in
 * flight at most, the latest state only (not spooled: an old report is worth
 * nothing), retried with the backoff helper.
 *
 * Origins are kept in memory only: a rule found in the kernel at start
 * (adopted from an agent before this one) is 'unknown'; the server matches
 * rules by their match, not their origin, so nothing depends on it.
 */
import type { Rule } from '../contract/rule.ts';
import { buildReport, type KernelState, RuleOrigins } from './kernel-report.ts';
import type { Logger } from './log.ts';
import type { Outcome, PendingCommand, RuleTable } from './rules.ts';
import { Loop } from './sync.ts';

/** Report periods: during an incident (detector.active), and otherwise. */
export const REPORT_ATTACK_MS = 5_000;
export const REPORT_CALM_MS = 60_000;
/**
 * From a change to its report. A policy's rules reach a whole fleet at once,
 * and each agent's ack is followed by its report: sent at once, fifty
 * reports fell on the server (and on the CPU the agents share with it in the
 * lab) while the same push was still being applied by the agents after them
 * (bench:fleet). A report a moment later says the same, and one report holds
 * the batches of a burst.
 */
export const REPORT_COALESCE_MS = 250;

export interface RuleReporterDeps {
  /** The agent's client (agent/http.ts AgentClient). */
  client: {
    request(method: 'POST', path: string, body: unknown, opts?: { timeoutMs?: number }): Promise<unknown>;
    readonly clockOffsetMs: number;
  };
  log: Logger;
  read(): KernelState;
  /** True while an incident is open. */
  active(): boolean;
  /** REPORT_COALESCE_MS unless given (tests). */
  coalesceMs?: number;
}

export class RuleReporter {
  readonly origins = new RuleOrigins();
  private readonly loop: Loop;
  private failing = false;
  private soon: NodeJS.Timeout | undefined;
  readonly stats = { sent: 0, failed: 0 };

  constructor(private readonly d: RuleReporterDeps) {
    this.loop = new Loop(
      () => this.send(),
      () => (d.active() ? REPORT_ATTACK_MS : REPORT_CALM_MS),
      (e, retryInMs) => d.log.warn('rule report failed', { error: (e as Error).message, retryInMs }),
    );
  }

  start(): void {
    this.loop.start();
  }

  stop(): Promise<void> {
    clearTimeout(this.soon);
    this.soon = undefined;
    return this.loop.stop();
  }

  /** The kernel's rules changed: report in coalesceMs (or after the report in flight; while failing, the backoff decides). */
  changed(): void {
    if (this.failing || this.soon) return;
    this.soon = setTimeout(() => {
      this.soon = undefined;
      if (!this.failing) this.loop.kick();
    }, this.d.coalesceMs ?? REPORT_COALESCE_MS);
    this.soon.unref();
  }

  /**
   * After a command: its rule is the command's while the kernel holds it,
   * forgotten once removed. The report is due once the answer reached the
   * server (CommandRunner's answered, then changed()): the server takes a rule
   * acknowledged after its last report as possibly not yet read from the kernel.
   */
  afterCommand(cmd: PendingCommand, out: Outcome, table: Pick<RuleTable, 'hasRule'>): Outcome {
    if (out.status !== 'applied') return out;
    if (table.hasRule(out.rule)) this.origins.command(out.rule, cmd.rule?.rule_id ?? undefined);
    else this.origins.forget(out.rule);
    return out;
  }

  /** The table auto-mitigation writes through: its rules are marked local and reported. */
  localTable(table: RuleTable): RuleTable {
    const self = this;
    return {
      addRule(rule: Rule) {
        table.addRule(rule);
        self.origins.local(rule);
        self.changed();
      },
      deleteRule: (m) => table.deleteRule(m),
      hasRule: (m) => table.hasRule(m),
      get ruleCount() {
        return table.ruleCount;
      },
    };
  }

  private async send(): Promise<void> {
    const body = buildReport(this.d.read(), this.origins, this.d.client.clockOffsetMs);
    try {
      await this.d.client.request('POST', '/rules', body, { timeoutMs: 15_000 });
    } catch (e) {
      this.failing = true;
      this.stats.failed++;
      throw e;
    }
    this.failing = false;
    this.stats.sent++;
  }
}
