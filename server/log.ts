// Structured logs: one JSON object per line on stderr. Secrets never reach a
// log line: query parameters are not logged, and `redactUrl` strips the
// `token` query parameter before a URL is written.
export type Level = 'debug' | 'info' | 'warn' | 'error';
const order: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

export type Sink = (line: string) => void;

export function createLogger(level: Level = 'info', sink: Sink = (l) => process.stderr.write(l + '\n')): Logger {
  const write = (lvl: Level, msg: string, fields?: Record<string, unknown>) => {
    if (order[lvl] < order[level]) return;
    sink(JSON.stringify({ ts: new Date().toISOString(), level: lvl, msg, ...fields }));
  };
  return {
    debug: (m, f) => write('debug', m, f),
    info: (m, f) => write('info', m, f),
    warn: (m, f) => write('warn', m, f),
    error: (m, f) => write('error', m, f),
  };
}

export const silentLogger: Logger = createLogger('error', () => {});

/** `/api/metrics?token=abc&x=1` -> `/api/metrics?token=REDACTED&x=1`. */
export function redactUrl(url: string): string {
  return url.replace(/([?&](?:token|key|api_key)=)[^&#]*/gi, '$1REDACTED');
}

/** One line per request: debug, or error for a 5xx. */
export function logRequest(log: Logger, method: string | undefined, url: string | undefined, status: number, start: number, node: string | undefined): void {
  const fields = { method, url: redactUrl(url ?? ''), status, ms: +(performance.now() - start).toFixed(1), node };
  if (status >= 500) log.error('request', fields);
  else log.debug('request', fields);
}
