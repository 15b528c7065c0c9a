// A small HTTP client for tests: real requests (node:http, which unlike fetch
// also sends a body with GET) to a listening server, JSON or MessagePack
// bodies, the reply decoded by its content type.
import http from 'node:http';
import { pack, unpack } from '../../server/codec.ts';

export interface Reply<T = any> {
  status: number;
  body: T;
  headers: Headers;
  raw: Buffer;
}

export interface RequestOptions {
  headers?: Record<string, string>;
  json?: unknown;
  msgpack?: unknown;
  raw?: Buffer | string;
  accept?: string;
}

export async function request<T = any>(base: string, method: string, path: string, o: RequestOptions = {}): Promise<Reply<T>> {
  const headers: Record<string, string> = { ...o.headers };
  let body: Buffer | string | undefined = o.raw;
  if (o.json !== undefined) {
    headers['content-type'] ??= 'application/json';
    body = JSON.stringify(o.json);
  } else if (o.msgpack !== undefined) {
    headers['content-type'] ??= 'application/msgpack';
    body = pack(o.msgpack);
  }
  if (o.accept) headers.accept = o.accept;
  const res = await send(base + path, method, headers, body);
  const raw = res.raw;
  const type = res.headers.get('content-type') ?? '';
  let parsed: unknown = raw;
  if (type.includes('json')) parsed = raw.length ? JSON.parse(raw.toString('utf8')) : null;
  else if (type.includes('msgpack')) parsed = unpack(raw);
  else if (type.startsWith('text/')) parsed = raw.toString('utf8');
  return { status: res.status, body: parsed as T, headers: res.headers, raw };
}

/** Headers of an agent request. */
export const agentHeaders = (node: { uuid: string; key: string }) => ({
  authorization: `Bearer ${node.key}`,
  'x-node-uuid': node.uuid,
});
export const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

function send(url: string, method: string, headers: Record<string, string>, body?: Buffer | string) {
  if (body !== undefined) headers = { 'content-length': String(Buffer.byteLength(body)), ...headers };
  return new Promise<{ status: number; headers: Headers; raw: Buffer }>((resolve, reject) => {
    const req = http.request(url, { method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const h = new Headers();
        for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) h.set(k, Array.isArray(v) ? v.join(', ') : v);
        resolve({ status: res.statusCode ?? 0, headers: h, raw: Buffer.concat(chunks) });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}
