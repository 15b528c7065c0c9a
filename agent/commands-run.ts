/**
 * Pending commands from the server, from either way they come (the config
 * poll and the push channel, agent/push.ts): applied one batch at a time in
 * arrival order, the batch's answers sent in one request (POST
 * /commands/ack, up to MAX_ACKS_PER_REQUEST; one POST /commands/:id/ack
 * each to a server without it), retried with the backoff helper, once the
 * whole batch is in the kernel, at most ACKS_AT_ONCE requests in flight.
 * A batch goes into the kernel as soon as the one before it is in the
 * kernel, not once its acks are answered: a busy
 * server answered acks slowly, and four withdrawals pushed one by one
 * reached 50 agents' kernels at p95 8.2 s (bench:fleet). A command answered
 * in this run is not applied again when a config built before its answer
 * reached the server lists it still.
 */

import { MAX_ACKS_PER_REQUEST } from '../contract/limits.ts';
import { Backoff, retry } from './backoff.ts';
import { ackBody, acksBody } from './bodies.ts';
import { type AgentClient, HttpError } from './http.ts';
import type { Logger } from './log.ts';
import type { Outcome, PendingCommand } from './rules.ts';

const REMEMBERED = 1024;
/** Acks in flight at once. */
const ACKS_AT_ONCE = 16;

export interface CommandRunnerDeps {
  client: AgentClient;
  log: Logger;
  /** Before a batch: the addresses no rule may cover, fresh enough (agent/protected.ts). */
  prepare(): Promise<void>;
  apply(cmd: PendingCommand): Outcome;
  /** After a command's answer reached the server (or was not needed any more). */
  answered?(cmd: PendingCommand, out: Outcome): void;
  stats: { commandsApplied: number; commandsFailed: number };
}

type Done = { cmd: PendingCommand; out: Outcome };

const ACK_RETRY = () => ({
  backoff: new Backoff({ baseMs: 250, maxMs: 4_000 }),
  maxTries: 4,
  retryable: (e: unknown) => e instanceof HttpError && e.retryable,
  retryAfter: (e: unknown) => (e instanceof HttpError ? e.retryAfterMs : null),
});

/** An older server's 404 to POST /commands/ack: its commands go one request each. */
class NoBatchAcks extends Error {}

export class CommandRunner {
  private chain: Promise<unknown> = Promise.resolve();
  private readonly answered = new Set<number>();
  private slots = ACKS_AT_ONCE;
  /** POST /commands/ack: tried until a 404 says the server has none ('seen': it answered one). */
  private batchAcks: boolean | 'seen' = true;
  private readonly waiting: (() => void)[] = [];

  constructor(private readonly d: CommandRunnerDeps) {}

  /**
   * Into the kernel after the batches before it are; resolves once its acks are answered, and
   * rejects when one could not be sent (that command comes back).
   */
  run(pending: readonly PendingCommand[]): Promise<void> {
    const applied = this.chain.then(() => this.apply(pending));
    this.chain = applied.catch(() => {});
    return applied.then((done) => this.ackAll(done));
  }

  private async apply(pending: readonly PendingCommand[]): Promise<Done[]> {
    const todo = pending.filter((c) => !this.answered.has(c.id));
    if (todo.length === 0) return [];
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
    return done;
  }

  /** The batch's answers in requests of MAX_ACKS_PER_REQUEST; one request per command to a server without batch acks. */
  private async ackAll(done: Done[]): Promise<void> {
    if (done.length === 0) return;
    const chunks: Done[][] = [];
    for (let i = 0; i < done.length; i += MAX_ACKS_PER_REQUEST) chunks.push(done.slice(i, i + MAX_ACKS_PER_REQUEST));
    const batched = this.batchAcks ? await Promise.allSettled(chunks.map((c) => this.inSlot(() => this.ackBatch(c)))) : [];
    const single = chunks.filter((_, i) => !this.batchAcks && batched[i]?.status !== 'fulfilled').flat();
    const results = [...batched, ...(await Promise.allSettled(single.map(({ cmd, out }) => this.inSlot(() => this.ack(cmd, out)))))];
    const failed = results.find((r) => r.status === 'rejected' && !(r.reason instanceof NoBatchAcks));
    if (failed) throw (failed as PromiseRejectedResult).reason;
  }

  /** One request for many answers; each result (taken, gone, answered before) settles its command. */
  private async ackBatch(chunk: Done[]): Promise<void> {
    const body = acksBody(chunk);
    try {
      await retry(() => this.d.client.request('POST', '/commands/ack', body), ACK_RETRY());
    } catch (e) {
      if (e instanceof HttpError && e.status === 404 && this.batchAcks !== 'seen') {
        if (this.batchAcks) this.d.log.info('the server has no batch acks (POST /commands/ack): one request per command', {});
        this.batchAcks = false;
        throw new NoBatchAcks();
      }
      for (const { cmd } of chunk) this.answered.delete(cmd.id);
      throw e;
    }
    this.batchAcks = 'seen';
    for (const { cmd, out } of chunk) this.d.answered?.(cmd, out);
  }

  /** At most ACKS_AT_ONCE acks in flight, over all batches. */
  private async inSlot<T>(fn: () => Promise<T>): Promise<T> {
    while (this.slots === 0) await new Promise<void>((resolve) => this.waiting.push(resolve));
    this.slots--;
    try {
      return await fn();
    } finally {
      this.slots++;
      this.waiting.shift()?.();
    }
  }

  private async ack(cmd: PendingCommand, out: Outcome): Promise<void> {
    const body = ackBody(out);
    try {
      await retry(() => this.d.client.request('POST', `/commands/${cmd.id}/ack`, body), ACK_RETRY());
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
