// The server's settings (server/config.ts): defaults, the order of sources,
// and the checks each setting had before the schema (ranges, the Prometheus
// prefix, log levels), each error naming the setting and its source.
import test from 'ava';
import { SettingsError } from '../../lib/settings.ts';
import { parseFlags } from '../../lib/settings-flags.ts';
import { resolveConfig, SETTINGS } from '../../server/config.ts';

const none = { env: {} };

test('defaults', (t) => {
  t.deepEqual(resolveConfig({}, none), {
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
    incidentSilenceMinutes: 10,
    authFailuresPerMinute: 20,
    nodeSamplesPerSecond: 60,
    logLevel: 'info',
  });
});

test('options > environment > file > defaults, for startServer() as for the CLI', (t) => {
  const file = { onlineSeconds: 30, poolSize: 4, dataDir: '/file' };
  const env = { BREAKWATER_ONLINE_SECONDS: '60', DATABASE_URL: 'postgres://env/bw', LOG_LEVEL: 'debug' };
  const cfg = resolveConfig({ onlineSeconds: 120, databaseUrl: undefined }, { env, file, fileName: 'server.json' });
  t.like(cfg, { onlineSeconds: 120, databaseUrl: 'postgres://env/bw', logLevel: 'debug', poolSize: 4, dataDir: '/file', port: 8080 });
  t.is(resolveConfig({}, { env, file }).onlineSeconds, 60);
  const { values } = parseFlags(SETTINGS, ['--online-seconds', '45', '--metric-prefix=']);
  t.like(resolveConfig(values, { env, file }), { onlineSeconds: 45, metricPrefix: '' });
});

test('startServer() reads the environment when none is given', (t) => {
  process.env.BREAKWATER_ROLLUP_RETENTION_DAYS = '7';
  try {
    t.is(resolveConfig({}).rollupRetentionDays, 7);
  } finally {
    delete process.env.BREAKWATER_ROLLUP_RETENTION_DAYS;
  }
});

test('each check, with the setting and the source named', (t) => {
  const bad = (fn: () => unknown, message: string) => t.throws(fn, { instanceOf: SettingsError, message });
  bad(() => resolveConfig({ port: 70000 }, none), 'option: port must be an integer in 0..65535, got 70000');
  bad(() => resolveConfig({}, { env: { PORT: '-1' } }), 'PORT: port must be an integer in 0..65535, got "-1"');
  bad(() => resolveConfig({}, { env: { BREAKWATER_POOL_SIZE: '0' } }), 'BREAKWATER_POOL_SIZE: poolSize must be an integer >= 1, got "0"');
  bad(
    () => resolveConfig({}, { env: {}, file: { rawRetentionHours: 0.5 }, fileName: 's.json' }),
    'config file s.json: rawRetentionHours must be an integer >= 1, got 0.5',
  );
  for (const k of ['rawRetentionHours', 'rollupRetentionDays', 'baselineWindowMinutes', 'onlineSeconds'] as const) {
    bad(() => resolveConfig({ [k]: 0 }, none), `option: ${k} must be an integer >= 1, got 0`);
  }
  t.is(resolveConfig({ maintenanceIntervalSeconds: 0 }, none).maintenanceIntervalSeconds, 0);
  bad(() => resolveConfig({ maintenanceIntervalSeconds: -1 }, none), 'option: maintenanceIntervalSeconds must be an integer >= 0, got -1');
  bad(
    () => resolveConfig({ metricPrefix: '9x_' }, none),
    'option: metricPrefix must be a Prometheus name prefix (letters, digits, _ and :, no digit first), got "9x_"',
  );
  t.is(resolveConfig({ metricPrefix: 'ddos:x_' }, none).metricPrefix, 'ddos:x_');
  bad(() => resolveConfig({}, { env: { LOG_LEVEL: 'loud' } }), 'LOG_LEVEL: logLevel must be one of debug, info, warn, error, got "loud"');
  bad(() => resolveConfig({}, { env: {}, file: { prt: 1 }, fileName: 's.json' }), "config file s.json: unknown key 'prt'");
});
