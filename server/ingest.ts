// POST /api/v1/agent/metrics, the route every agent calls once a second,
// served on the plain Node request, without Koa: on a small machine Koa's
// per-request context, middleware chain and response handling cost more CPU
// than the route's own work. It runs the same steps, with the same functions,
// as the Koa routes: authentication before the body is read (401/403, nothing
// stored), Content-Type (415), size limit (413), JSON or MessagePack (400),
// the sample check (400 naming the field), the group-commit writer, then a
// reply in the Accept format once the samples are committed. Errors have the
// one shape { "error": { "code", "message" } }. Any other method or URL
// (even with a query string) goes through Koa, whose route does the same.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { BODY_LIMITS } from '../contract/limits.ts';
import type { Deps } from './app.ts';
import { authenticateNode } from './auth.ts';
import { bodyFormat, decode, encode, readBody, replyFormat } from './codec.ts';
import { toHttpError } from './errors.ts';
import { logRequest, redactUrl } from './log.ts';
import { parseSamples, toRows } from './samples.ts';

export const METRICS_PATH = '/api/v1/agent/metrics';
export const METRICS_LIMIT = BODY_LIMITS.metrics;

/** Stores the samples of a parsed /metrics body for a node, within its fair share; resolves with the reply once they are committed. */
export async function storeMetrics({ writer, share }: Pick<Deps, 'writer' | 'share'>, nodeId: number, body: unknown) {
  const rows = toRows(nodeId, parseSamples(body));
  share.take(nodeId, rows.length);
  await writer.add(rows);
  return { ok: true as const, accepted: rows.length };
}

export function ingestHandler(deps: Deps) {
  const { db, log } = deps;
  return (req: IncomingMessage, res: ServerResponse): void => {
    const start = performance.now();
    let node: string | undefined;
    const handle = async () => {
      const n = await authenticateNode(
        db,
        req.headers.authorization,
        req.headers['x-node-uuid'] as string | undefined,
        req.socket.remoteAddress,
      );
      node = n.uuid;
      deps.share.check(n.id); // a node past its share is refused before its body is read and parsed
      const format = bodyFormat(req.headers['content-type']);
      return storeMetrics(deps, n.id, decode(format, await readBody(req, METRICS_LIMIT)));
    };
    const send = (status: number, value: unknown, headers?: Record<string, string>) => {
      const { type, body } = encode(replyFormat(req.headers.accept), value);
      res.statusCode = status;
      if (headers) for (const [k, v] of Object.entries(headers)) res.setHeader(k, v);
      res.setHeader('Content-Type', type);
      res.setHeader('Content-Length', Buffer.byteLength(body));
      res.end(body);
      logRequest(log, req.method, req.url, status, start, node);
    };
    handle().then(
      (value) => send(200, value),
      (err) => {
        const e = toHttpError(err, log, req.method ?? '', redactUrl(req.url ?? ''));
        send(e.status, { error: { code: e.code, message: e.message } }, e.headers);
      },
    );
  };
}
