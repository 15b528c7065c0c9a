// Every server setting in one place: name, default, environment variable.
// The CLI flags and startServer() options use the same names.
import type { Level } from './log.ts';

export interface ServerConfig {
  /** TCP port, 0 for any free one. */
  port: number;
  host: string;
  /** A PostgreSQL URL; without it an embedded PGlite database in `dataDir` is used. */
  databaseUrl?: string;
  /** Where the embedded database lives (ignored with databaseUrl). */
  dataDir: string;
  /** Prefix of every Prometheus metric name. */
  metricPrefix: string;
  /** Raw per-second samples are kept this long, then only the per-minute rollups. */
  rawRetentionHours: number;
  rollupRetentionDays: number;
  /** Baselines come from raw samples of this window, outside incidents. */
  baselineWindowMinutes: number;
  /** How often baselines, rollups and retention run (0 disables, e.g. in tests). */
  maintenanceIntervalSeconds: number;
  /** A node is online when it was heard from within this many seconds. */
  onlineSeconds: number;
  /** Connections in the pool to an external PostgreSQL. */
  poolSize: number;
  logLevel: Level;
}

export const defaults: ServerConfig = {
  port: 8080,
  host: '0.0.0.0',
  databaseUrl: undefined,
  dataDir: '.data',
  metricPrefix: 'breakwater_',
  rawRetentionHours: 24,
  rollupRetentionDays: 90,
  baselineWindowMinutes: 60,
  maintenanceIntervalSeconds: 300,
  onlineSeconds: 90,
  poolSize: 10,
  logLevel: 'info',
};

/** Environment variable of each setting. */
export const envNames: Record<keyof ServerConfig, string> = {
  port: 'PORT',
  host: 'HOST',
  databaseUrl: 'DATABASE_URL',
  dataDir: 'BREAKWATER_DATA_DIR',
  metricPrefix: 'BREAKWATER_METRIC_PREFIX',
  rawRetentionHours: 'BREAKWATER_RAW_RETENTION_HOURS',
  rollupRetentionDays: 'BREAKWATER_ROLLUP_RETENTION_DAYS',
  baselineWindowMinutes: 'BREAKWATER_BASELINE_WINDOW_MINUTES',
  maintenanceIntervalSeconds: 'BREAKWATER_MAINTENANCE_INTERVAL_SECONDS',
  onlineSeconds: 'BREAKWATER_ONLINE_SECONDS',
  poolSize: 'BREAKWATER_POOL_SIZE',
  logLevel: 'LOG_LEVEL',
};

/** Settings from the environment, over the defaults. */
export function fromEnv(env: NodeJS.ProcessEnv = process.env): Partial<ServerConfig> {
  const out: Record<string, unknown> = {};
  for (const [key, name] of Object.entries(envNames) as [keyof ServerConfig, string][]) {
    const raw = env[name];
    if (raw === undefined || raw === '') continue;
    out[key] = typeof defaults[key] === 'number' ? Number(raw) : raw;
  }
  return out as Partial<ServerConfig>;
}

export function resolveConfig(opts: Partial<ServerConfig>): ServerConfig {
  const cfg = { ...defaults, ...fromEnv(), ...stripUndefined(opts) };
  if (!/^[a-zA-Z_:][a-zA-Z0-9_:]*$/.test(cfg.metricPrefix) && cfg.metricPrefix !== '') {
    throw new Error(`metricPrefix "${cfg.metricPrefix}" is not a valid Prometheus name prefix`);
  }
  for (const k of ['rawRetentionHours', 'rollupRetentionDays', 'baselineWindowMinutes', 'onlineSeconds'] as const) {
    if (!(cfg[k] > 0)) throw new Error(`${k} must be a positive number, got ${cfg[k]}`);
  }
  if (!(cfg.maintenanceIntervalSeconds >= 0)) throw new Error(`maintenanceIntervalSeconds must be 0 or more, got ${cfg.maintenanceIntervalSeconds}`);
  if (!Number.isInteger(cfg.port) || cfg.port < 0 || cfg.port > 65535) throw new Error(`port must be an integer in 0..65535, got ${cfg.port}`);
  if (!Number.isInteger(cfg.poolSize) || cfg.poolSize < 1) throw new Error(`poolSize must be a positive integer, got ${cfg.poolSize}`);
  if (!['debug', 'info', 'warn', 'error'].includes(cfg.logLevel)) throw new Error(`logLevel must be debug, info, warn or error, got "${cfg.logLevel}"`);
  return cfg;
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
