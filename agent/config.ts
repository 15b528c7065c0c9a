/**
 * Every agent setting in one schema (lib/settings.ts): key, type, default,
 * environment variable, flag, help and checks. Sources, strongest first:
 * command-line flags, the environment, a JSON config file (--config /
 * BREAKWATER_CONFIG), defaults. `--help` and the table in docs/agent.md are
 * generated from SCHEMA. Adding a setting is one entry here.
 */
import { bool, int, list, merge, SettingsError, type Sources, str, type Values } from '../lib/settings.ts';
import { parseFlags as parseWith } from '../lib/settings-flags.ts';
import { helpText as helpWith, markdownTable as tableOf } from '../lib/settings-text.ts';

export { SettingsError as ConfigError, type Sources } from '../lib/settings.ts';

/** Environment variable naming the JSON config file. */
export const CONFIG_ENV = 'BREAKWATER_CONFIG';

const i = (d: number, env: string, flag: string, help: string, min: number) => int({ default: d, env, flag, help, min });

export const SCHEMA = {
  nodeUuid: str({ required: true, env: 'BREAKWATER_NODE_UUID', flag: 'node-uuid', arg: 'UUID', help: 'node UUID given by the server' }),
  apiKey: str({
    required: true,
    env: 'BREAKWATER_API_KEY',
    flag: 'api-key',
    arg: 'KEY',
    help: "the node's API key (prefer the environment or the file)",
  }),
  server: str({
    required: true,
    env: 'BREAKWATER_SERVER',
    flag: 'server',
    arg: 'URL',
    help: 'server base URL, e.g. https://breakwater.example:8080',
  }),
  iface: str({ required: true, env: 'BREAKWATER_IFACE', flag: 'iface', arg: 'IF', help: 'network interface to protect' }),
  netns: str({
    env: 'BREAKWATER_NETNS',
    flag: 'netns',
    arg: 'NS',
    help: 'network namespace holding the interface (name under /var/run/netns)',
  }),
  mode: str({ default: 'auto', choices: ['auto', 'native', 'generic'], env: 'BREAKWATER_MODE', flag: 'mode', help: 'XDP attach mode' }),
  tickMs: i(100, 'BREAKWATER_TICK_MS', 'tick-ms', 'kernel snapshot period, ms', 20),
  metricsMs: i(1_000, 'BREAKWATER_METRICS_MS', 'metrics-ms', 'metrics sample period (one sample each), ms', 100),
  heartbeatMs: i(30_000, 'BREAKWATER_HEARTBEAT_MS', 'heartbeat-ms', 'heartbeat period, ms', 100),
  configMs: i(60_000, 'BREAKWATER_CONFIG_MS', 'config-ms', 'config poll period when calm, ms', 100),
  configAttackMs: i(
    10_000,
    'BREAKWATER_CONFIG_ATTACK_MS',
    'config-attack-ms',
    'config poll period during an attack (also polled at once at onset), ms',
    100,
  ),
  push: bool({
    default: true,
    env: 'BREAKWATER_PUSH',
    flag: 'push',
    help: 'keep a push connection open (GET /api/v1/agent/events): commands and config changes at once; the poll goes on beside it (--no-push: poll only)',
  }),
  spoolDir: str({
    default: '/var/lib/breakwater/spool',
    env: 'BREAKWATER_SPOOL_DIR',
    flag: 'spool-dir',
    arg: 'DIR',
    help: 'on-disk queue of samples and incident events',
  }),
  spoolMaxBytes: i(
    64 * 1024 * 1024,
    'BREAKWATER_SPOOL_MAX_BYTES',
    'spool-max-bytes',
    'spool bound; the oldest records go first beyond it',
    4096,
  ),
  stateDir: str({
    default: '/var/lib/breakwater/state',
    env: 'BREAKWATER_STATE_DIR',
    flag: 'state-dir',
    arg: 'DIR',
    help: 'baseline, normal sources and incident ids kept across restarts',
  }),
  ruleTtlDefault: i(3_600, 'BREAKWATER_RULE_TTL_DEFAULT', 'rule-ttl-default', 'TTL of a command rule that gives none, s', 1),
  ruleTtlMax: i(86_400, 'BREAKWATER_RULE_TTL_MAX', 'rule-ttl-max', 'longest TTL accepted from a command, s', 1),
  maxRules: i(10_000, 'BREAKWATER_MAX_RULES', 'max-rules', 'most rules the agent keeps in the kernel', 1),
  minPrefixV4: i(16, 'BREAKWATER_MIN_PREFIX_V4', 'min-prefix-v4', 'broadest IPv4 prefix a command may drop', 1),
  minPrefixV6: i(48, 'BREAKWATER_MIN_PREFIX_V6', 'min-prefix-v6', 'broadest IPv6 prefix a command may drop', 1),
  allowlist: list({
    env: 'BREAKWATER_ALLOWLIST',
    flag: 'allow',
    arg: 'PREFIX',
    help: 'addresses or prefixes never dropped (kernel allowlist and command safety); repeat or comma-separate',
  }),
  autoMitigate: bool({
    default: false,
    env: 'BREAKWATER_AUTO_MITIGATE',
    flag: 'auto-mitigate',
    help: 'drop the top offending sources and safe flood signatures locally during an incident',
  }),
  autoMitigateTtl: i(300, 'BREAKWATER_AUTO_MITIGATE_TTL', 'auto-mitigate-ttl', 'TTL of an auto-mitigation rule, s', 1),
  autoMitigateMax: i(32, 'BREAKWATER_AUTO_MITIGATE_MAX', 'auto-mitigate-max', 'most sources auto-mitigation drops per incident', 1),
  talkerSamplesPerSec: i(
    4_096,
    'BREAKWATER_TALKER_SAMPLES',
    'talker-samples',
    'talker samples a second the sampling period aims at (1 in 1..64 packets); 0 keeps 1 in 64',
    0,
  ),
  captureMaxBytes: i(
    16 * 1024 * 1024,
    'BREAKWATER_CAPTURE_MAX_BYTES',
    'capture-max-bytes',
    'pcapng capture per incident (packet heads from before the onset to the resolve, uploaded to the incident), bytes; 0: none',
    0,
  ),
  resolveHoldMs: i(
    10_000,
    'BREAKWATER_RESOLVE_HOLD_MS',
    'resolve-hold-ms',
    'quiet time (every tick under 0.8x the threshold) before an incident resolves, ms',
    1_000,
  ),
  geoDatabase: str({
    default: '@ip-location-db/dbip-country',
    pattern: /^/,
    shape: 'a path, a package name, or empty',
    env: 'BREAKWATER_GEO_DATABASE',
    flag: 'geo-database',
    arg: 'DIR',
    help: "country database of geo_breakdown (docs/geo.md): a directory of ip-location-db *-num.csv files, or a package holding them; '' or off: no countries",
  }),
  detachOnExit: bool({
    default: false,
    env: 'BREAKWATER_DETACH_ON_EXIT',
    flag: 'detach-on-exit',
    help: 'remove the program and rules when the agent stops',
  }),
  logLevel: str({
    default: 'info',
    choices: ['debug', 'info', 'warn', 'error'],
    env: 'BREAKWATER_LOG_LEVEL',
    flag: 'log-level',
    help: 'log level',
  }),
};

export type Key = keyof typeof SCHEMA;
export type AgentConfig = Values<typeof SCHEMA>;

export const parseFlags = (argv: readonly string[]) => parseWith(SCHEMA, argv);

/** Merges flags > env > file > defaults, checks every value and, unless requireAll is false, the required keys. */
export function resolveConfig(src: Sources, opts: { requireAll?: boolean } = {}): AgentConfig {
  const cfg = merge(SCHEMA, src, opts);
  if (opts.requireAll !== false) {
    let ok = false;
    try {
      ok = ['http:', 'https:'].includes(new URL(cfg.server).protocol);
    } catch {}
    if (!ok) throw new SettingsError(`server must be an http(s) URL, got '${cfg.server}'`);
  }
  if (cfg.ruleTtlDefault > cfg.ruleTtlMax)
    throw new SettingsError(`ruleTtlDefault (${cfg.ruleTtlDefault}) exceeds ruleTtlMax (${cfg.ruleTtlMax})`);
  return cfg;
}

export const helpText = () =>
  helpWith(SCHEMA, {
    usage: ['Usage: breakwater agent --iface IF --server URL [settings]', '       breakwater agent detach --iface IF [--netns NS]'],
    configEnv: CONFIG_ENV,
  });

/** The settings table of docs/agent.md. */
export const markdownTable = () => tableOf(SCHEMA);
