// Structured logs: one JSON object per line on stderr. Secrets never reach a
// log line: a request is logged by its path alone (never its query string,
// however a token in it is spelled), a path segment that looks like a secret
// is masked, and any workspace token that still got into a line is masked by
// the sink itself.
export type Level = 'debug' | 'info' | 'warn' | 'error';
const order: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

export type Sink = (line: string) => void;

/** Workspace tokens (secrets.ts newToken), wherever they appear. */
const TOKEN = /bwt_[A-Za-z0-9]{12}_[A-Za-z0-9_-]{20,}/g;

export function createLogger(level: Level = 'info', sink: Sink = (l) => process.stderr.write(`${l}\n`)): Logger {
  const write = (lvl: Level, msg: string, fields?: Record<string, unknown>) => {
    if (order[lvl] < order[level]) return;
    sink(JSON.stringify({ ts: new Date().toISOString(), level: lvl, msg, ...fields }).replace(TOKEN, 'bwt_REDACTED'));
  };
  return {
    debug: (m, f) => write('debug', m, f),
    info: (m, f) => write('info', m, f),
    warn: (m, f) => write('warn', m, f),
    error: (m, f) => write('error', m, f),
  };
}

export const silentLogger: Logger = createLogger('error', () => {});

/**
 * What a log line says of a request URL: its path, without the query string
 * or fragment, and with any segment of 32 or more key-like characters (a node
 * key or a token pasted into a path) masked.
 */
export function redactUrl(url: string): string {
  const path = url.split(/[?#]/, 1)[0] ?? '';
  return path.replace(/[A-Za-z0-9_%-]{32,}/g, 'REDACTED');
}

/** One line per request: debug, or error for a 5xx. */
export function logRequest(
  log: Logger,
  method: string | undefined,
  url: string | undefined,
  status: number,
  start: number,
  node: string | undefined,
): void {
  const fields = { method, url: redactUrl(url ?? ''), status, ms: +(performance.now() - start).toFixed(1), node };
  if (status >= 500) log.error('request', fields);
  else log.debug('request', fields);
}
