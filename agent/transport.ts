/**
 * One request to the server over Node's own http/https client, kept alive
 * in the client's pool: the transport of every call but the push stream and
 * the capture upload (agent/http.ts). Not fetch: in bench:transport (fresh
 * processes, alternating) a small POST took 5.9 ms of CPU through fetch and
 * 1.3 ms through this over a client's first 50 calls, 1.7 and 0.5 ms warm;
 * an agent's calls are few and far between. On a host of 51 agents each
 * push of a workspace rule set off five calls per agent (four acks and a
 * rule report) beside the next agent's kernel write.
 *
 * The whole request, answer read, is bounded by timeoutMs. A socket the pool
 * reused may have been closed by the server just before (its keep-alive
 * timeout): such a request that got no answer byte is sent once more on a
 * new socket, as Node's documentation advises.
 */
import http from 'node:http';
import https from 'node:https';

export interface Answer {
  status: number;
  statusText: string;
  /** Lower-case names. */
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

export interface Request {
  method: string;
  headers: Record<string, string>;
  body?: Uint8Array | string;
  timeoutMs: number;
}

export class Transport {
  private readonly agent: http.Agent;
  private readonly lib: typeof http | typeof https;

  constructor(base: string) {
    this.lib = new URL(base).protocol === 'https:' ? https : http;
    this.agent = new this.lib.Agent({ keepAlive: true });
  }

  async send(url: string, o: Request): Promise<Answer> {
    try {
      return await this.once(url, o);
    } catch (e) {
      if ((e as { reused?: boolean }).reused) return this.once(url, o);
      throw e;
    }
  }

  private once(url: string, o: Request) {
    return new Promise<Answer>((resolve, reject) => {
      const headers = { ...o.headers };
      if (o.body !== undefined) headers['content-length'] = String(Buffer.byteLength(o.body));
      let answered = false;
      const req = this.lib.request(url, { method: o.method, headers, agent: this.agent }, (res) => {
        answered = true;
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', fail);
        res.on('end', () => {
          clearTimeout(timer);
          resolve({ status: res.statusCode ?? 0, statusText: res.statusMessage ?? '', headers: res.headers, body: Buffer.concat(chunks) });
        });
      });
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        req.destroy(new Error(`no answer in ${o.timeoutMs} ms`));
      }, o.timeoutMs);
      function fail(e: Error) {
        clearTimeout(timer);
        reject(Object.assign(e, { reused: req.reusedSocket && !answered && !timedOut }));
      }
      req.on('error', fail);
      req.end(o.body);
    });
  }

  /** Closes the pool's idle sockets (they hold no process open: the pool unrefs them). */
  close(): void {
    this.agent.destroy();
  }
}
