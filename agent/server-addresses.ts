/**
 * The server's addresses, which no drop rule may cover: the URL's host when
 * it is an address; a name is resolved at start and then again in the
 * background once the answer is older than REFRESH_MS, never in the way of
 * a batch of commands. Before, each batch waited for a lookup of its own
 * (libuv's thread pool, then the event loop again): on a host of 51 busy
 * agents that was 50-150 ms of the 200 ms a workspace's rule may take to be
 * in force on all of them (bench:fleet). The cost: a server that moves to
 * a new address is protected from rules up to REFRESH_MS later (the agent
 * itself reaches it by name meanwhile; only a rule aimed at it would cut it).
 */
import dns from 'node:dns/promises';
import net from 'node:net';
import type { Logger } from './log.ts';

export const REFRESH_MS = 30_000;

export class ServerAddresses {
  private readonly host: string;
  private addrs: string[] = [];
  private resolvedAt = Number.NEGATIVE_INFINITY;
  private inFlight: Promise<void> | null = null;

  constructor(
    serverUrl: string,
    private readonly log: Logger,
    private readonly lookup: (host: string) => Promise<string[]> = async (h) => (await dns.lookup(h, { all: true })).map((a) => a.address),
  ) {
    this.host = new URL(serverUrl).hostname.replace(/^\[|\]$/g, '');
    if (net.isIP(this.host)) this.addrs = [this.host];
  }

  /** The addresses now: waits only for the first answer of a name; later ones refresh behind. */
  async current(now = performance.now()): Promise<string[]> {
    if (net.isIP(this.host)) return this.addrs;
    if (this.resolvedAt === Number.NEGATIVE_INFINITY) await this.refresh(now);
    else if (now - this.resolvedAt >= REFRESH_MS) void this.refresh(now);
    return this.addrs;
  }

  private refresh(now: number): Promise<void> {
    this.inFlight ??= this.lookup(this.host)
      .then((a) => {
        this.addrs = a;
      })
      .catch((e: Error) =>
        this.log.warn('cannot resolve the server name; keeping the last addresses', { host: this.host, error: e.message }),
      )
      .finally(() => {
        this.resolvedAt = now;
        this.inFlight = null;
      });
    return this.inFlight;
  }
}
