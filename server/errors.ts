// Errors a route may throw, each with a stable code. The `errors` middleware
// renders every one as { "error": { "code", "message" } } in the format the
// client accepts; anything else becomes a 500 whose details go to the log only.
import type { Logger } from './log.ts';

export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

export const badRequest = (message: string) => new HttpError(400, 'bad_request', message);
export const validationFailed = (message: string) => new HttpError(400, 'validation_failed', message);
export const unauthorized = (message = 'missing or invalid credentials') =>
  new HttpError(401, 'unauthorized', message, { 'WWW-Authenticate': 'Bearer' });
export const forbidden = (message = 'these credentials do not give access to this resource') => new HttpError(403, 'forbidden', message);
export const notFound = (what = 'resource') => new HttpError(404, 'not_found', `${what} not found`);
export const conflict = (message: string) => new HttpError(409, 'conflict', message);
export const payloadTooLarge = (limit: number, headers?: Record<string, string>) =>
  new HttpError(413, 'payload_too_large', `body larger than ${limit} bytes`, headers);
export const unsupportedMediaType = (type: string, allowed: string[]) =>
  new HttpError(415, 'unsupported_media_type', `content type "${type}" is not one of ${allowed.join(', ')}`);
/** 429 with Retry-After (whole seconds, at least 1). */
export const tooManyRequests = (message: string, retryAfterMs: number) =>
  new HttpError(429, 'too_many_requests', message, { 'Retry-After': String(Math.max(1, Math.ceil(retryAfterMs / 1000))) });
export const internal = () => new HttpError(500, 'internal', 'internal server error');

/** An error a handler threw, as the HttpError to answer with; unexpected ones are logged (without secrets) and become 500. */
export function toHttpError(err: unknown, log: Logger, method: string, url: string): HttpError {
  if (err instanceof HttpError) return err;
  const e = err as { status?: number; expose?: boolean; message?: string; code?: string };
  // Errors Koa and its router raise on purpose (405, 501) keep their status.
  if (typeof e.status === 'number' && e.status >= 400 && e.status < 500 && e.expose) {
    return new HttpError(e.status, e.status === 405 ? 'method_not_allowed' : 'bad_request', e.message ?? 'bad request');
  }
  if (e.code === '23505') return new HttpError(409, 'conflict', 'an object with these unique fields already exists');
  // An object the request refers to was deleted meanwhile (a node during its upload, say).
  if (e.code === '23503') return new HttpError(409, 'conflict', 'an object this request refers to no longer exists');
  log.error('unexpected error', { method, url, error: e.message, stack: (err as Error).stack?.split('\n').slice(0, 4).join(' | ') });
  return internal();
}
