/**
 * Every server setting in one schema (lib/settings.ts): key, type, default,
 * environment variable, flag, help and checks. The CLI flags, the JSON config
 * file (--config / BREAKWATER_SERVER_CONFIG), startServer()'s options and the
 * table in docs/server.md use these keys. Adding a setting is one entry here.
 */
import { int, merge, type Sources, str, type Values } from '../lib/settings.ts';

/** Environment variable naming the JSON config file. */
export const CONFIG_ENV = 'BREAKWATER_SERVER_CONFIG';

const i = (d: number, env: string, flag: string, help: string, min: number, max?: number) =>
  int({ default: d, env, flag, help, min, ...(max !== undefined ? { max } : {}) });

export const SETTINGS = {
  port: i(8080, 'PORT', 'port', 'TCP port, 0 for any free one', 0, 65535),
  host: str({ default: '0.0.0.0', env: 'HOST', flag: 'host', arg: 'ADDR', help: 'address to listen on' }),
  databaseUrl: str({
    env: 'DATABASE_URL',
    flag: 'database-url',
    arg: 'URL',
    help: 'a PostgreSQL URL; without it the embedded database in dataDir',
  }),
  dataDir: str({
    default: '.data',
    env: 'BREAKWATER_DATA_DIR',
    flag: 'data-dir',
    arg: 'DIR',
    help: 'embedded database directory (one process at a time; ignored with databaseUrl)',
  }),
  metricPrefix: str({
    default: 'breakwater_',
    env: 'BREAKWATER_METRIC_PREFIX',
    flag: 'metric-prefix',
    arg: 'PREFIX',
    help: 'prefix of every Prometheus name (letters, digits, _ and :, no digit first; may be empty)',
    pattern: /^(?:[a-zA-Z_:][a-zA-Z0-9_:]*)?$/,
    shape: 'a Prometheus name prefix (letters, digits, _ and :, no digit first)',
  }),
  rawRetentionHours: i(
    24,
    'BREAKWATER_RAW_RETENTION_HOURS',
    'raw-retention-hours',
    'per-second samples kept, hours; older ones only as per-minute rollups',
    1,
  ),
  rollupRetentionDays: i(90, 'BREAKWATER_ROLLUP_RETENTION_DAYS', 'rollup-retention-days', 'per-minute rollups kept, days', 1),
  baselineWindowMinutes: i(
    60,
    'BREAKWATER_BASELINE_WINDOW_MINUTES',
    'baseline-window-minutes',
    'window of samples a baseline is computed from, outside incidents, minutes',
    1,
  ),
  maintenanceIntervalSeconds: i(
    300,
    'BREAKWATER_MAINTENANCE_INTERVAL_SECONDS',
    'maintenance-interval-seconds',
    'how often baselines, rollups and retention run, s; 0 never',
    0,
  ),
  onlineSeconds: i(90, 'BREAKWATER_ONLINE_SECONDS', 'online-seconds', 'a node is online when heard from within this many seconds', 1),
  poolSize: i(10, 'BREAKWATER_POOL_SIZE', 'pool-size', 'connections to an external PostgreSQL', 1),
  incidentSilenceMinutes: i(
    10,
    'BREAKWATER_INCIDENT_SILENCE_MINUTES',
    'incident-silence-minutes',
    'an open incident whose node has sent nothing for this long is resolved by maintenance, with the reason; 0 never',
    0,
  ),
  authFailuresPerMinute: i(
    20,
    'BREAKWATER_AUTH_FAILURES_PER_MINUTE',
    'auth-failures-per-minute',
    'failed authentications a minute from one client address (IPv6: one /64) before 429; 0 no limit',
    0,
  ),
  nodeSamplesPerSecond: i(
    60,
    'BREAKWATER_NODE_SAMPLES_PER_SECOND',
    'node-samples-per-second',
    'metric samples a second one node may send, sustained (and one full batch at once); past it 429 with Retry-After; 0 no limit',
    0,
  ),
  logLevel: str({
    default: 'info',
    choices: ['debug', 'info', 'warn', 'error'],
    env: 'LOG_LEVEL',
    flag: 'log-level',
    help: 'log level; debug adds requests and query text + duration',
  }),
};

export type ServerConfig = Values<typeof SETTINGS>;

/**
 * The settings: `opts` (startServer's options, or the CLI's flags) over the
 * environment, over `from.file` (the CLI's config file), over the defaults.
 */
export function resolveConfig(opts: Partial<ServerConfig>, from: Omit<Sources, 'flags'> = {}): ServerConfig {
  return merge(SETTINGS, { env: process.env, ...from, flags: opts });
}
