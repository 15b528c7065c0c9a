// Bodies in and out: JSON or MessagePack (same fields, contract/codec.ts), read
// with a size limit and held to the contract's shape (depth, values, text that
// PostgreSQL can store) before any schema sees them; the reply's format
// follows the request's Accept header. The functions on
// plain Node requests serve the hot metrics route (ingest.ts); the Koa
// middlewares below wrap the same functions for every other route.
import type { IncomingMessage } from 'node:http';
import type { Context, Next } from 'koa';
import { Packr } from 'msgpackr';
import { JSON_TYPE, MSGPACK_TYPE as MSGPACK, MSGPACK_TYPES, PACKR_OPTIONS } from '../contract/codec.ts';
import { checkShape } from '../contract/wire/json.ts';
import { badRequest, payloadTooLarge, unsupportedMediaType, validationFailed } from './errors.ts';

export { MSGPACK };
export type Format = 'json' | 'msgpack';
const msgpackTypes: readonly string[] = MSGPACK_TYPES;
const packr = new Packr(PACKR_OPTIONS);

/** The format of a request body by its Content-Type: JSON (also without one) or MessagePack; 415 otherwise. */
export function bodyFormat(contentType: string | undefined): Format {
  const type = (contentType?.split(';')[0] ?? '').trim().toLowerCase();
  if (type === JSON_TYPE || type === '') return 'json';
  if (msgpackTypes.includes(type)) return 'msgpack';
  throw unsupportedMediaType(type, [JSON_TYPE, MSGPACK]);
}

/**
 * Reads the raw body up to `limit` bytes. A declared length over it is 413 at
 * once, unread. A body that grows past it (chunked) is read on and dropped up
 * to `limit` more bytes (at least 64 KiB), so that a client still sending gets
 * its 413 on a connection that stays usable; a bigger one stops being read and
 * is 413 with `Connection: close` (a client still sending may then see the
 * connection reset instead).
 */
export function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? NaN);
  if (declared > limit) return Promise.reject(payloadTooLarge(limit));
  const dropLimit = limit + Math.max(limit, 64 * 1024);
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const done = () => {
      req.off('data', onData).off('end', onEnd).off('error', onError);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) chunks.push(chunk);
      else if (size > dropLimit) {
        done();
        req.pause();
        reject(payloadTooLarge(limit, { Connection: 'close' }));
      } else chunks.length = 0;
    };
    const onEnd = () => {
      done();
      if (size > limit) reject(payloadTooLarge(limit));
      else resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size));
    };
    const onError = (err: Error) => {
      done();
      reject(err);
    };
    req.on('data', onData).on('end', onEnd).on('error', onError);
  });
}

/** Parses a body; 400 when it is not valid in its format or not of the contract's shape. An empty body is `{}`. */
export function decode(format: Format, raw: Buffer): unknown {
  if (raw.length === 0) return {};
  let value: unknown;
  try {
    value = format === 'msgpack' ? packr.unpack(raw) : JSON.parse(raw.toString('utf8'));
  } catch {
    throw badRequest(`body is not valid ${format === 'msgpack' ? 'MessagePack' : 'JSON'}`);
  }
  const problem = checkShape(value);
  if (problem) throw validationFailed(`${problem.path || 'body'}: ${problem.message}`);
  return value;
}

/**
 * The reply format an Accept header asks for: the media type negotiation of
 * Koa's ctx.accepts('application/json', ...the MessagePack types), i.e.
 * `negotiator`'s rules (the most specific matching range gives a type its q;
 * then highest q, most specific, earliest range, JSON first). No header, or
 * nothing acceptable: JSON. Memoised: agents send the same few headers.
 */
export function replyFormat(accept: string | undefined): Format {
  if (!accept) return 'json';
  let f = negotiated.get(accept);
  if (f === undefined) {
    if (negotiated.size >= 256) negotiated.clear();
    f = negotiate(accept);
    negotiated.set(accept, f);
  }
  return f;
}
const negotiated = new Map<string, Format>();

function negotiate(accept: string): Format {
  const ranges = accept.split(',').flatMap((text, o) => {
    const m = /^\s*([^\s/;]+)\/([^;\s]+)\s*(?:;(.*))?$/.exec(text.trim());
    if (!m) return [];
    let q = 1;
    const params: (string | undefined)[] = [];
    for (const kv of m[3]?.split(';') ?? []) {
      const eq = kv.indexOf('=');
      const key = (eq < 0 ? kv : kv.slice(0, eq)).trim().toLowerCase();
      let value = eq < 0 ? undefined : kv.slice(eq + 1).trim();
      if (value && value.length > 1 && value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1);
      if (key === 'q') {
        q = parseFloat(value ?? '');
        break;
      }
      params.push(value);
    }
    return [{ type: m[1]!.toLowerCase(), subtype: m[2]!.toLowerCase(), q, o, params }];
  });
  let best: { q: number; s: number; o: number; i: number } | undefined;
  [JSON_TYPE, ...msgpackTypes].forEach((offered, i) => {
    const [type, subtype] = offered.split('/');
    let p = { q: 0, s: 0, o: -1, i };
    for (const r of ranges) {
      let s = 0;
      if (r.type === type) s |= 4;
      else if (r.type !== '*') continue;
      if (r.subtype === subtype) s |= 2;
      else if (r.subtype !== '*') continue;
      if (r.params.length > 0) {
        // Our types have no parameters: a range with one matches only if it is empty or '*'.
        if (r.params.every((v) => v === '*' || !v)) s |= 1;
        else continue;
      }
      if ((p.s - s || p.q - r.q || p.o - r.o) < 0) p = { q: r.q, s, o: r.o, i };
    }
    if (!(p.q > 0)) return;
    if (!best || (best.q - p.q || best.s - p.s || p.o - best.o || p.i - best.i) < 0) best = p;
  });
  return best && best.i > 0 ? 'msgpack' : 'json';
}

/** A reply body in the given format, with its Content-Type. */
export function encode(format: Format, value: unknown): { type: string; body: Buffer | string } {
  return format === 'msgpack'
    ? { type: MSGPACK, body: packr.pack(value) }
    : { type: 'application/json; charset=utf-8', body: JSON.stringify(value) };
}

/** Koa: reads the raw body up to `limit` bytes (see readBody). */
export const readRaw = (ctx: Context, limit: number): Promise<Buffer> => readBody(ctx.req, limit);

/** Koa middleware: parses a JSON or MessagePack body of at most `limit` bytes into ctx.request.body. */
export function body(limit: number) {
  return async (ctx: Context, next: Next) => {
    const format = bodyFormat(ctx.get('content-type'));
    (ctx.request as { body?: unknown }).body = decode(format, await readBody(ctx.req, limit));
    await next();
  };
}

/** Koa: sends `value` as JSON or MessagePack, whichever the Accept header prefers. */
export function reply(ctx: Context, status: number, value: unknown): void {
  const { type, body } = encode(replyFormat(ctx.get('accept')), value);
  ctx.status = status;
  ctx.type = type;
  ctx.body = body;
}

export const pack = (v: unknown) => packr.pack(v);
export const unpack = (b: Buffer | Uint8Array) => packr.unpack(b);
