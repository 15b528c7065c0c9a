// Bodies in and out: JSON or MessagePack (same fields), read with a size limit;
// the reply's format follows the request's Accept header.
import type { Context, Next } from 'koa';
import { Packr } from 'msgpackr';
import { badRequest, payloadTooLarge, unsupportedMediaType } from './errors.ts';

export const MSGPACK = 'application/msgpack';
const msgpackTypes = ['application/msgpack', 'application/x-msgpack', 'application/vnd.msgpack'];
// useRecords: false keeps the output plain MessagePack any client can read.
const packr = new Packr({ useRecords: false, mapsAsObjects: true, int64AsType: 'number' });

/** Reads the raw body up to `limit` bytes; 413 beyond it without buffering the rest. */
export async function readRaw(ctx: Context, limit: number): Promise<Buffer> {
  const declared = Number(ctx.get('content-length') || NaN);
  if (declared > limit) throw payloadTooLarge(limit);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of ctx.req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) {
      ctx.req.unpipe();
      ctx.set('Connection', 'close');
      throw payloadTooLarge(limit);
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, size);
}

/** Middleware: parses a JSON or MessagePack body of at most `limit` bytes into ctx.request.body. */
export function body(limit: number) {
  return async (ctx: Context, next: Next) => {
    const type = (ctx.get('content-type').split(';')[0] ?? '').trim().toLowerCase();
    const isMsgpack = msgpackTypes.includes(type);
    if (!isMsgpack && type !== 'application/json' && type !== '') {
      throw unsupportedMediaType(type, ['application/json', MSGPACK]);
    }
    const raw = await readRaw(ctx, limit);
    let value: unknown = {};
    if (raw.length > 0) {
      try {
        value = isMsgpack ? packr.unpack(raw) : JSON.parse(raw.toString('utf8'));
      } catch {
        throw badRequest(`body is not valid ${isMsgpack ? 'MessagePack' : 'JSON'}`);
      }
    }
    (ctx.request as { body?: unknown }).body = value;
    await next();
  };
}

/** Sends `value` as JSON or MessagePack, whichever the Accept header prefers. */
export function reply(ctx: Context, status: number, value: unknown): void {
  ctx.status = status;
  const preferred = ctx.accepts('application/json', ...msgpackTypes);
  if (preferred && preferred !== 'application/json') {
    ctx.type = MSGPACK;
    ctx.body = packr.pack(value);
  } else {
    ctx.type = 'application/json';
    ctx.body = JSON.stringify(value);
  }
}

export const pack = (v: unknown) => packr.pack(v);
export const unpack = (b: Buffer | Uint8Array) => packr.unpack(b);
