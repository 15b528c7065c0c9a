/**
 * Every agent setting in one schema: key, type, default, environment variable,
 * flag and description. Sources, strongest first: command-line flags, the
 * environment, a JSON config file (--config / BREAKWATER_CONFIG), defaults.
 * `--help` and the table in docs/agent.md are generated from SCHEMA.
 */

type Kind = 'string' | 'int' | 'bool' | 'list';

interface KeySpec<T> {
  kind: Kind;
  default: T;
  env: string;
  flag: string;
  help: string;
  /** Lowest accepted value for ints. */
  min?: number;
  choices?: readonly string[];
}

const s = (d: string | undefined, env: string, flag: string, help: string, choices?: readonly string[]): KeySpec<string | undefined> =>
  ({ kind: 'string', default: d, env, flag, help, ...(choices ? { choices } : {}) });
const i = (d: number, env: string, flag: string, help: string, min = 1): KeySpec<number> => ({ kind: 'int', default: d, env, flag, help, min });
const b = (d: boolean, env: string, flag: string, help: string): KeySpec<boolean> => ({ kind: 'bool', default: d, env, flag, help });
const l = (env: string, flag: string, help: string): KeySpec<string[]> => ({ kind: 'list', default: [], env, flag, help });

export const SCHEMA = {
  nodeUuid: s(undefined, 'BREAKWATER_NODE_UUID', 'node-uuid', 'node UUID given by the server (required)'),
  apiKey: s(undefined, 'BREAKWATER_API_KEY', 'api-key', "the node's API key (required; prefer the environment or the file)"),
  server: s(undefined, 'BREAKWATER_SERVER', 'server', 'server base URL, e.g. https://breakwater.example:8080 (required)'),
  iface: s(undefined, 'BREAKWATER_IFACE', 'iface', 'network interface to protect (required)'),
  netns: s(undefined, 'BREAKWATER_NETNS', 'netns', 'network namespace holding the interface (name under /var/run/netns)'),
  mode: s('auto', 'BREAKWATER_MODE', 'mode', 'XDP attach mode', ['auto', 'native', 'generic']),
  tickMs: i(100, 'BREAKWATER_TICK_MS', 'tick-ms', 'kernel snapshot period, ms', 20),
  metricsMs: i(1_000, 'BREAKWATER_METRICS_MS', 'metrics-ms', 'metrics sample period (one sample each), ms', 100),
  heartbeatMs: i(30_000, 'BREAKWATER_HEARTBEAT_MS', 'heartbeat-ms', 'heartbeat period, ms', 100),
  configMs: i(60_000, 'BREAKWATER_CONFIG_MS', 'config-ms', 'config poll period when calm, ms', 100),
  configAttackMs: i(10_000, 'BREAKWATER_CONFIG_ATTACK_MS', 'config-attack-ms', 'config poll period during an attack (also polled at once at onset), ms', 100),
  spoolDir: s('/var/lib/breakwater/spool', 'BREAKWATER_SPOOL_DIR', 'spool-dir', 'on-disk queue of samples and incident events'),
  spoolMaxBytes: i(64 * 1024 * 1024, 'BREAKWATER_SPOOL_MAX_BYTES', 'spool-max-bytes', 'spool bound; the oldest records go first beyond it', 4096),
  stateDir: s('/var/lib/breakwater/state', 'BREAKWATER_STATE_DIR', 'state-dir', 'baseline, normal sources and incident ids kept across restarts'),
  ruleTtlDefault: i(3_600, 'BREAKWATER_RULE_TTL_DEFAULT', 'rule-ttl-default', 'TTL of a command rule that gives none, s'),
  ruleTtlMax: i(86_400, 'BREAKWATER_RULE_TTL_MAX', 'rule-ttl-max', 'longest TTL accepted from a command, s'),
  maxRules: i(10_000, 'BREAKWATER_MAX_RULES', 'max-rules', 'most rules the agent keeps in the kernel'),
  minPrefixV4: i(16, 'BREAKWATER_MIN_PREFIX_V4', 'min-prefix-v4', 'broadest IPv4 prefix a command may drop'),
  minPrefixV6: i(48, 'BREAKWATER_MIN_PREFIX_V6', 'min-prefix-v6', 'broadest IPv6 prefix a command may drop'),
  allowlist: l('BREAKWATER_ALLOWLIST', 'allow', 'addresses or prefixes never dropped (kernel allowlist and command safety); repeat or comma-separate'),
  autoMitigate: b(false, 'BREAKWATER_AUTO_MITIGATE', 'auto-mitigate', 'drop the top offending sources and safe flood signatures locally during an incident'),
  autoMitigateTtl: i(300, 'BREAKWATER_AUTO_MITIGATE_TTL', 'auto-mitigate-ttl', 'TTL of an auto-mitigation rule, s'),
  autoMitigateMax: i(32, 'BREAKWATER_AUTO_MITIGATE_MAX', 'auto-mitigate-max', 'most sources auto-mitigation drops per incident'),
  talkerSamplesPerSec: i(4_096, 'BREAKWATER_TALKER_SAMPLES', 'talker-samples', 'talker samples a second the sampling period aims at (1 in 1..64 packets); 0 keeps 1 in 64', 0),
  resolveHoldMs: i(10_000, 'BREAKWATER_RESOLVE_HOLD_MS', 'resolve-hold-ms', 'quiet time (every tick under 0.8x the threshold) before an incident resolves, ms', 1_000),
  detachOnExit: b(false, 'BREAKWATER_DETACH_ON_EXIT', 'detach-on-exit', 'remove the program and rules when the agent stops'),
  logLevel: s('info', 'BREAKWATER_LOG_LEVEL', 'log-level', 'log level', ['debug', 'info', 'warn', 'error']),
} as const;

export type Key = keyof typeof SCHEMA;
type ValueOf<K extends Key> = (typeof SCHEMA)[K]['default'];
export type AgentConfig = { -readonly [K in Key]: ValueOf<K> extends readonly string[] ? string[] : ValueOf<K> } & {
  nodeUuid: string; apiKey: string; server: string; iface: string; spoolDir: string; stateDir: string; mode: string; logLevel: string;
};

export const REQUIRED: readonly Key[] = ['nodeUuid', 'apiKey', 'server', 'iface'];

export class ConfigError extends Error {}

function convert(key: Key, raw: unknown, where: string): unknown {
  const spec = SCHEMA[key] as KeySpec<unknown>;
  const bad = (what: string) => new ConfigError(`${where}: ${key} ${what}`);
  switch (spec.kind) {
    case 'string': {
      if (typeof raw !== 'string' || raw === '') throw bad('must be a non-empty string');
      if (spec.choices && !spec.choices.includes(raw)) throw bad(`must be one of ${spec.choices.join(', ')}`);
      return raw;
    }
    case 'int': {
      const n = typeof raw === 'string' && /^-?\d+$/.test(raw.trim()) ? Number(raw) : raw;
      if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < (spec.min ?? 0)) throw bad(`must be an integer >= ${spec.min ?? 0}`);
      return n;
    }
    case 'bool': {
      if (typeof raw === 'boolean') return raw;
      if (typeof raw === 'string' && /^(1|true|yes|on)$/i.test(raw)) return true;
      if (typeof raw === 'string' && /^(0|false|no|off)$/i.test(raw)) return false;
      throw bad('must be true or false');
    }
    case 'list': {
      const list = Array.isArray(raw) ? raw : typeof raw === 'string' ? raw.split(',') : null;
      if (!list || !list.every((x) => typeof x === 'string')) throw bad('must be a list of strings');
      return (list as string[]).map((x) => x.trim()).filter(Boolean);
    }
  }
}

const byFlag = new Map<string, Key>(Object.entries(SCHEMA).map(([k, v]) => [v.flag, k as Key]));

/** Parses `--flag value`, `--flag=value`, `--bool`, `--no-bool`; `--config FILE` is returned apart. */
export function parseFlags(argv: readonly string[]): { values: Partial<Record<Key, unknown>>; configFile?: string } {
  const values: Partial<Record<Key, unknown>> = {};
  let configFile: string | undefined;
  for (let n = 0; n < argv.length; n++) {
    const arg = argv[n]!;
    const m = /^--([a-z0-9-]+)(?:=(.*))?$/.exec(arg);
    if (!m) throw new ConfigError(`unexpected argument '${arg}'`);
    let name = m[1]!;
    let value: string | undefined = m[2];
    const take = (): string => {
      if (value !== undefined) return value;
      const next = argv[++n];
      if (next === undefined) throw new ConfigError(`--${name} needs a value`);
      return next;
    };
    if (name === 'config') {
      configFile = take();
      continue;
    }
    let negate = false;
    if (!byFlag.has(name) && name.startsWith('no-') && byFlag.has(name.slice(3))) {
      negate = true;
      name = name.slice(3);
    }
    const key = byFlag.get(name);
    if (!key) throw new ConfigError(`unknown option --${name} (see --help)`);
    const spec = SCHEMA[key] as KeySpec<unknown>;
    if (spec.kind === 'bool') {
      values[key] = negate ? false : value === undefined ? true : convert(key, value, `--${name}`);
    } else if (spec.kind === 'list') {
      const prev = (values[key] as string[] | undefined) ?? [];
      values[key] = [...prev, ...(convert(key, take(), `--${name}`) as string[])];
    } else {
      values[key] = convert(key, take(), `--${name}`);
    }
  }
  return { values, ...(configFile !== undefined ? { configFile } : {}) };
}

export interface Sources {
  flags?: Partial<Record<Key, unknown>>;
  env?: Record<string, string | undefined>;
  /** The parsed JSON config file (keys as in SCHEMA). */
  file?: Record<string, unknown>;
}

/** Merges flags > env > file > defaults, validates, and checks the required keys. */
export function resolveConfig(src: Sources, opts: { requireAll?: boolean } = {}): AgentConfig {
  const out: Record<string, unknown> = {};
  const file = src.file ?? {};
  for (const k of Object.keys(file)) {
    if (!(k in SCHEMA)) throw new ConfigError(`config file: unknown key '${k}'`);
  }
  for (const key of Object.keys(SCHEMA) as Key[]) {
    const spec = SCHEMA[key];
    let v: unknown = spec.default;
    if (file[key] !== undefined) v = convert(key, file[key], 'config file');
    const e = src.env?.[spec.env];
    if (e !== undefined && e !== '') v = convert(key, e, spec.env);
    if (src.flags?.[key] !== undefined) v = src.flags[key];
    out[key] = Array.isArray(v) ? [...v] : v;
  }
  if (opts.requireAll !== false) {
    const missing = REQUIRED.filter((k) => out[k] === undefined);
    if (missing.length) {
      throw new ConfigError(`missing ${missing.map((k) => `--${SCHEMA[k].flag} (or ${SCHEMA[k].env})`).join(', ')}`);
    }
    try {
      const u = new URL(out.server as string);
      if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error();
    } catch {
      throw new ConfigError(`server must be an http(s) URL, got '${String(out.server)}'`);
    }
  }
  if ((out.ruleTtlDefault as number) > (out.ruleTtlMax as number)) throw new ConfigError('ruleTtlDefault exceeds ruleTtlMax');
  return out as AgentConfig;
}

function defaultText(key: Key): string {
  const d: unknown = SCHEMA[key].default;
  if (d === undefined) return REQUIRED.includes(key) ? 'required' : '-';
  if (Array.isArray(d)) return d.length ? d.join(',') : '-';
  return String(d);
}

export function helpText(): string {
  const lines = [
    'Usage: breakwater agent --iface IF --server URL [options]',
    '       breakwater agent detach --iface IF [--netns NS]',
    '',
    'Each option may also come from its environment variable or a JSON file (--config FILE or',
    'BREAKWATER_CONFIG, keys as named by File key below); flags win over the environment, which wins',
    'over the file.',
    '',
    'Options:',
  ];
  for (const key of Object.keys(SCHEMA) as Key[]) {
    const spec = SCHEMA[key] as KeySpec<unknown>;
    const arg = spec.kind === 'bool' ? '' : spec.kind === 'int' ? ' N' : ' VALUE';
    lines.push(`  --${spec.flag}${arg}`);
    const extra = spec.choices ? ` (${spec.choices.join('|')})` : '';
    lines.push(`      ${spec.help}${extra}. Default: ${defaultText(key)}. Env: ${spec.env}. File key: ${key}.`);
  }
  lines.push('  --config FILE', '      JSON config file. Env: BREAKWATER_CONFIG.', '  --help', '      this text.');
  return lines.join('\n');
}

/** The markdown table of docs/agent.md. */
export function markdownTable(): string {
  const rows = ['| file key | flag | environment | type | default | meaning |', '| --- | --- | --- | --- | --- | --- |'];
  for (const key of Object.keys(SCHEMA) as Key[]) {
    const spec = SCHEMA[key] as KeySpec<unknown>;
    rows.push(`| ${key} | --${spec.flag} | ${spec.env} | ${spec.kind} | ${defaultText(key)} | ${spec.help}${spec.choices ? ` (${spec.choices.join(', ')})` : ''} |`);
  }
  return rows.join('\n');
}
