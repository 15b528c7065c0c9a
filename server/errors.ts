// Errors a route may throw, each with a stable code. The `errors` middleware
// renders every one as { "error": { "code", "message" } } in the format the
// client accepts; anything else becomes a 500 whose details go to the log only.
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
export const forbidden = (message = 'these credentials do not give access to this resource') =>
  new HttpError(403, 'forbidden', message);
export const notFound = (what = 'resource') => new HttpError(404, 'not_found', `${what} not found`);
export const conflict = (message: string) => new HttpError(409, 'conflict', message);
export const payloadTooLarge = (limit: number) =>
  new HttpError(413, 'payload_too_large', `body larger than ${limit} bytes`);
export const unsupportedMediaType = (type: string, allowed: string[]) =>
  new HttpError(415, 'unsupported_media_type', `content type "${type}" is not one of ${allowed.join(', ')}`);
export const internal = () => new HttpError(500, 'internal', 'internal server error');
