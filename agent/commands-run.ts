/**
 * Pending commands from the server, from either way they come (the config
 * poll and the push channel, agent/push.ts): applied one batch at a time in
 * arrival order, each acknowledged (POST /commands/:id/ack, retried with
 * the backoff helper) once the whole batch is in the kernel. A command answered in this run is not applied again
 * when a config built before its answer reached the server lists it still.
 */
import { Backoff, retry } from './backoff.ts';
import { ackBody } from './bodies.ts';
import { type AgentClient, HttpError } from './http.ts';
import type { Logger } from './log.ts';
import type { Outcome, PendingCommand } from './rules.ts';

const REMEMBERED = 1024;
/** Acks in flight at once. */
const ACKS_AT_ONCE = 16;

export interface CommandRunnerDeps {
  client: AgentClient;
  log: Logger;
  /** Before a batch: the addresses no rule may cover, fresh. */
  prepare(): Promise<void>;
  apply(cmd: PendingCommand): Outcome;
  /** After a command's answer reached the server (or was not needed any more). */
  answered?(cmd: PendingCommand, out: Outcome): void;
  stats: { commandsApplied: number; commandsFailed: number };
}

export class CommandRunner {
  private chain: Promise<void> = Promise.resolve();
  private readonly answered = new Set<number>();

  constructor(private readonly d: CommandRunnerDeps) {}

  /** Runs after the batches before it; rejects when an ack could not be sent (the command comes back). */
  run(pending: readonly PendingCommand[]): Promise<void> {
    const next = this.chain.then(() => this.runNow(pending));
    this.chain = next.catch(() => {});
    return next;
  }

  private async runNow(pending: readonly PendingCommand[]): Promise<void> {
    const todo = pending.filter((c) => !this.answered.has(c.id));
    if (todo.length === 0) return;
    await this.d.prepare();
    // Every rule of the batch goes into the kernel first; then the acks, several at a time, so
    // that a policy's 32 rules do not hold back the operator's 33rd by 32 round trips.
    const done = todo.map((cmd) => {
      const out = this.d.apply(cmd);
      if (out.status === 'applied') {
        this.d.stats.commandsApplied++;
        this.d.log.info('command applied', { id: cmd.id, command: cmd.command, rule: out.rule });
      } else {
        this.d.stats.commandsFailed++;
        this.d.log.warn('command refused', { id: cmd.id, command: cmd.command, reason: out.reason });
      }
      this.remember(cmd.id);
      return { cmd, out };
    });
    let failure: unknown;
    for (let i = 0; i < done.length; i += ACKS_AT_ONCE) {
      const results = await Promise.allSettled(done.slice(i, i + ACKS_AT_ONCE).map(({ cmd, out }) => this.ack(cmd, out)));
      failure ??= results.find((r) => r.status === 'rejected')?.reason;
    }
    if (failure) throw failure;
  }

  private async ack(cmd: PendingCommand, out: Outcome): Promise<void> {
    const body = ackBody(out);
    try {
      await retry(() => this.d.client.request('POST', `/commands/${cmd.id}/ack`, body), {
        backoff: new Backoff({ baseMs: 250, maxMs: 4_000 }),
        maxTries: 4,
        retryable: (e) => e instanceof HttpError && e.retryable,
        retryAfter: (e) => (e instanceof HttpError ? e.retryAfterMs : null),
      });
    } catch (e) {
      // 409: answered or withdrawn meanwhile. Otherwise the command stays pending and comes back (applied again: the same rule).
      if (!(e instanceof HttpError && (e.status === 409 || e.status === 404))) {
        this.answered.delete(cmd.id);
        throw e;
      }
    }
    this.d.answered?.(cmd, out);
  }

  private remember(id: number): void {
    this.answered.add(id);
    if (this.answered.size > REMEMBERED) this.answered.delete(this.answered.values().next().value!);
  }
}
