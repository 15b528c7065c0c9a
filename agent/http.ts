/**
 * The agent's client of /api/v1/agent: auth headers, MessagePack (JSON until
 * the server has shown it speaks MessagePack, and again if it stops), and
 * errors that carry the status and Retry-After for the backoff helper. Calls
 * go through Node's http client (agent/transport.ts, a fraction of fetch's
 * CPU); a FormData body goes as multipart/form-data through Node's fetch
 * (undici), which encodes it and streams a file-backed Blob from disk; the
 * push stream is fetch's too (one long-lived GET).
 */
import { Packr } from 'msgpackr';
import { JSON_TYPE, MSGPACK_TYPE as MSGPACK, PACKR_OPTIONS } from '../contract/codec.ts';
import { parseRetryAfter } from './backoff.ts';
import { type Answer, Transport } from './transport.ts';

const packr = new Packr(PACKR_OPTIONS);

export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly retryAfterMs: number | null = null,
  ) {
    super(message);
  }

  /** Worth retrying: network errors, 5xx, 408, 429, and auth (a key may be fixed server-side). */
  get retryable(): boolean {
    return this.status === 0 || this.status >= 500 || [401, 403, 408, 429].includes(this.status);
  }
}

export interface ClientOptions {
  server: string;
  nodeUuid: string;
  apiKey: string;
  timeoutMs?: number;
  /** 'auto' (default): MessagePack once the server answered in it; 'json'; 'msgpack'. */
  format?: 'auto' | 'json' | 'msgpack';
}

/** A clock this far off the server's (by its Date header) is corrected for in sample times. */
export const CLOCK_SKEW_MS = 60_000;

export class AgentClient {
  private readonly base: string;
  private msgpack: boolean;
  private readonly format: 'auto' | 'json' | 'msgpack';
  /**
   * The server's clock minus this host's, ms, from the Date header of the
   * last reply (to a second or so); 0 while they agree within CLOCK_SKEW_MS.
   */
  clockOffsetMs = 0;

  private readonly transport: Transport;

  constructor(private readonly o: ClientOptions) {
    this.base = `${o.server.replace(/\/+$/, '')}/api/v1/agent`;
    this.transport = new Transport(this.base);
    this.format = o.format ?? 'auto';
    this.msgpack = this.format === 'msgpack';
  }

  get usingMsgpack(): boolean {
    return this.msgpack;
  }

  /** Opens a long-lived GET (the push stream): the response, its body unread; no timeout but `signal`. */
  async open(path: string, signal: AbortSignal): Promise<Response> {
    let res: Response;
    try {
      res = await fetch(this.base + path, {
        headers: { authorization: `Bearer ${this.o.apiKey}`, 'x-node-uuid': this.o.nodeUuid, accept: 'text/event-stream' },
        signal,
      });
    } catch (e) {
      throw new HttpError(0, `GET ${path}: ${(e as Error).message}`);
    }
    if (!res.ok) {
      await res.body?.cancel();
      throw new HttpError(
        res.status,
        `GET ${path}: ${res.status} ${res.statusText}`,
        parseRetryAfter(res.headers.get('retry-after'), Date.now()),
      );
    }
    return res;
  }

  async request<T = unknown>(method: 'GET' | 'POST', path: string, body?: unknown, opts: { timeoutMs?: number } = {}): Promise<T> {
    const headers: Record<string, string> = {
      authorization: `Bearer ${this.o.apiKey}`,
      'x-node-uuid': this.o.nodeUuid,
      accept: this.format === 'json' ? JSON_TYPE : `${MSGPACK}, ${JSON_TYPE};q=0.5`,
    };
    let payload: Uint8Array<ArrayBuffer> | string | FormData | undefined;
    if (body instanceof FormData) {
      payload = body; // fetch sets the multipart type and its boundary
    } else if (body !== undefined) {
      headers['content-type'] = this.msgpack ? MSGPACK : JSON_TYPE;
      payload = this.msgpack ? new Uint8Array(packr.pack(body)) : JSON.stringify(body);
    }
    let res: Answer;
    const sent = Date.now();
    const timeoutMs = opts.timeoutMs ?? this.o.timeoutMs ?? 10_000;
    try {
      res =
        payload instanceof FormData
          ? await viaFetch(this.base + path, method, headers, payload, timeoutMs)
          : await this.transport.send(this.base + path, { method, headers, body: payload, timeoutMs });
    } catch (e) {
      throw new HttpError(0, `${method} ${path}: ${(e as Error).message}`);
    }
    const header = (name: string) => {
      const v = res.headers[name];
      return (Array.isArray(v) ? v[0] : v) ?? null;
    };
    const server = Date.parse(header('date') ?? '');
    if (!Number.isNaN(server)) {
      const offset = server + 500 - (sent + Date.now()) / 2; // the header is truncated to the second
      this.clockOffsetMs = Math.abs(offset) > CLOCK_SKEW_MS ? Math.round(offset) : 0;
    }
    const type = (header('content-type') ?? '').split(';')[0]!.trim();
    const raw = res.body;
    if (this.format === 'auto') {
      if (type === MSGPACK) this.msgpack = true;
      else if (res.status === 415) this.msgpack = false; // the server stopped accepting it: retry as JSON
    }
    let value: unknown;
    if (raw.length) {
      try {
        value = type === MSGPACK ? packr.unpack(raw) : type.includes('json') ? JSON.parse(raw.toString('utf8')) : raw.toString('utf8');
      } catch {
        value = undefined;
      }
    }
    if (res.status < 200 || res.status > 299) {
      const err = (value as { error?: { message?: string } } | undefined)?.error?.message ?? res.statusText;
      throw new HttpError(res.status, `${method} ${path}: ${res.status} ${err}`, parseRetryAfter(header('retry-after'), Date.now()));
    }
    return value as T;
  }

  /** Closes the idle keep-alive sockets. */
  close(): void {
    this.transport.close();
  }
}

/** A multipart body through fetch (undici encodes FormData and streams a file-backed Blob from disk). */
async function viaFetch(url: string, method: string, headers: Record<string, string>, body: FormData, timeoutMs: number): Promise<Answer> {
  const res = await fetch(url, { method, headers, body, signal: AbortSignal.timeout(timeoutMs) });
  const raw = Buffer.from(await res.arrayBuffer());
  return { status: res.status, statusText: res.statusText, headers: Object.fromEntries(res.headers), body: raw };
}
