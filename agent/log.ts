/** One-line JSON logs on stderr (journald keeps them), filtered by level. */
export type Level = 'debug' | 'info' | 'warn' | 'error';
const RANK: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface Logger {
  debug(msg: string, fields?: object): void;
  info(msg: string, fields?: object): void;
  warn(msg: string, fields?: object): void;
  error(msg: string, fields?: object): void;
}

export function createLogger(level: Level = 'info', write: (line: string) => void = (l) => process.stderr.write(`${l}\n`)): Logger {
  const at = (lv: Level) => (msg: string, fields?: object) => {
    if (RANK[lv] < RANK[level]) return;
    write(JSON.stringify({ t: new Date().toISOString(), level: lv, msg, ...fields }));
  };
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };

/**
 * A reader of the agent's output that goes away (the terminal of an ssh
 * session, a log pipe, the process that started it) must not stop the
 * agent: a write to a closed pipe fails with EPIPE, which Node raises as an
 * uncaught error on the stream. The lines are lost; detection goes on.
 */
export function survivePipeLoss(): void {
  for (const s of [process.stdout, process.stderr]) s.on('error', () => {});
}
