/**
 * Pending commands from the server, from either way they come (the config
 * poll and the push channel, agent/push.ts): applied one batch at a time in
 * arrival order, each acknowledged (POST /commands/:id/ack, retried with
 * the backoff helper). A command answered in this run is not applied again
 * when a config built before its answer reached the server lists it still.
 */
import { Backoff, retry } from './backoff.ts';
import { ackBody } from './bodies.ts';
import { type AgentClient, HttpError } from './http.ts';
import type { Logger } from './log.ts';
import type { Outcome, PendingCommand } from './rules.ts';

const REMEMBERED = 1024;

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
    for (const cmd of todo) {
      const out = this.d.apply(cmd);
      if (out.status === 'applied') {
        this.d.stats.commandsApplied++;
        this.d.log.info('command applied', { id: cmd.id, command: cmd.command, rule: out.rule });
      } else {
        this.d.stats.commandsFailed++;
        this.d.log.warn('command refused', { id: cmd.id, command: cmd.command, reason: out.reason });
      }
      const body = ackBody(out);
      try {
        await retry(() => this.d.client.request('POST', `/commands/${cmd.id}/ack`, body), {
          backoff: new Backoff({ baseMs: 250, maxMs: 4_000 }),
          maxTries: 4,
          retryable: (e) => e instanceof HttpError && e.retryable,
          retryAfter: (e) => (e instanceof HttpError ? e.retryAfterMs : null),
        });
      } catch (e) {
        // 409: answered or withdrawn meanwhile. Otherwise the command stays pending and comes back.
        if (!(e instanceof HttpError && (e.status === 409 || e.status === 404))) throw e;
      }
      this.answered.add(cmd.id);
      this.d.answered?.(cmd, out);
      if (this.answered.size > REMEMBERED) this.answered.delete(this.answered.values().next().value!);
    }
  }
}
