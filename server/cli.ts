// The `breakwater` command line (scripts/breakwater.mjs loads this file).
//   breakwater server [--port 8080] [--host 0.0.0.0] [--database-url URL] [--data-dir .data] ...
//   breakwater workspace create --name NAME          prints { id, uuid, name, token }
//   breakwater node create --workspace ID --name NAME [--ip IP] [--pps-threshold N]
//                                                    prints { id, uuid, key }
//   breakwater token create --workspace ID [--name NAME]
// Admin commands take the same --database-url / --data-dir and write to the
// database directly (with the embedded database, stop the server first: one
// process owns a data directory). Secrets go to stdout once, never to logs.
import { parseArgs } from 'node:util';
import { admin } from './admin.ts';
import { defaults, envNames, resolveConfig, type ServerConfig } from './config.ts';
import { openDb } from './db.ts';
import { createLogger, type Level } from './log.ts';
import { migrate } from './migrate.ts';
import { startServer } from './index.ts';

const flags = {
  port: { type: 'string' }, host: { type: 'string' }, 'database-url': { type: 'string' }, 'data-dir': { type: 'string' },
  'metric-prefix': { type: 'string' }, 'raw-retention-hours': { type: 'string' }, 'rollup-retention-days': { type: 'string' },
  'baseline-window-minutes': { type: 'string' }, 'maintenance-interval-seconds': { type: 'string' }, 'pool-size': { type: 'string' },
  'log-level': { type: 'string' }, name: { type: 'string' }, workspace: { type: 'string' }, ip: { type: 'string' },
  'pps-threshold': { type: 'string' }, help: { type: 'boolean', short: 'h' },
} as const;

const camel = (s: string) => s.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());

export function usage(): string {
  const settings = (Object.keys(defaults) as (keyof ServerConfig)[])
    .map((k) => `  --${k.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase()).padEnd(30)} ${envNames[k].padEnd(40)} ${defaults[k] ?? '(embedded database)'}`)
    .join('\n');
  return `usage:
  breakwater server [settings]
  breakwater workspace create --name NAME [--database-url URL | --data-dir DIR]
  breakwater node create --workspace ID --name NAME [--ip IP] [--pps-threshold N]
  breakwater token create --workspace ID [--name NAME]

settings (flag, environment variable, default):
${settings}
`;
}

function configFrom(values: Record<string, string | boolean | undefined>): Partial<ServerConfig> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(values)) {
    const key = camel(k) as keyof ServerConfig;
    if (v === undefined || !(key in defaults)) continue;
    out[key] = typeof defaults[key] === 'number' ? Number(v) : v;
    if (typeof out[key] === 'number' && Number.isNaN(out[key])) throw new Error(`--${k}: expected a number`);
  }
  return out as Partial<ServerConfig>;
}

export async function main(argv: string[], out: (s: string) => void = (s) => process.stdout.write(s + '\n')): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: flags, allowPositionals: true, strict: true });
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n${usage()}`);
    return 2;
  }
  const { values, positionals } = parsed;
  const [cmd, sub] = positionals;
  if (values.help || !cmd) {
    out(usage());
    return values.help ? 0 : 2;
  }
  let cfg: ServerConfig;
  try {
    cfg = resolveConfig(configFrom(values));
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n`);
    return 2;
  }
  const log = createLogger(cfg.logLevel as Level);

  if (cmd === 'server') {
    const srv = await startServer({ ...cfg, log });
    await new Promise<void>((resolve) => {
      let stopping = false;
      const stop = (signal: string) => {
        if (stopping) process.exit(130); // second signal: leave now
        stopping = true;
        log.info('stopping', { signal });
        void srv.close().then(resolve);
      };
      process.on('SIGINT', () => stop('SIGINT'));
      process.on('SIGTERM', () => stop('SIGTERM'));
    });
    return 0;
  }

  if (!['workspace', 'node', 'token'].includes(cmd) || sub !== 'create') {
    process.stderr.write(`unknown command: ${positionals.join(' ')}\n${usage()}`);
    return 2;
  }
  const need = (k: 'name' | 'workspace') => {
    if (!values[k]) throw new Error(`--${k} is required`);
    return values[k];
  };
  const threshold = values['pps-threshold'];
  if (threshold !== undefined && !/^[1-9][0-9]{0,14}$/.test(threshold)) {
    process.stderr.write(`--pps-threshold: expected a positive integer, got "${threshold}"\n`);
    return 2;
  }
  const db = await openDb({ databaseUrl: cfg.databaseUrl, dataDir: cfg.dataDir, poolSize: 2, log });
  try {
    await migrate(db, log);
    const a = admin(db);
    if (cmd === 'workspace') out(JSON.stringify(await a.createWorkspace(need('name'))));
    if (cmd === 'node') {
      out(JSON.stringify(await a.createNode(need('workspace'), need('name'), { ip: values.ip, ppsThreshold: threshold === undefined ? undefined : Number(threshold) })));
    }
    if (cmd === 'token') out(JSON.stringify(await a.createToken(need('workspace'), values.name)));
    return 0;
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n`);
    return 1;
  } finally {
    await db.close();
  }
}
