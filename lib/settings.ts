/**
 * Settings schemas. A program declares each setting once, with the builders
 * below (kind, default, environment variable, flag, help, checks); its type
 * is inferred from that entry (`Values<typeof SCHEMA>`), and from the schema
 * come the merge of its sources (flags > environment > JSON config file >
 * defaults, here), the flag parser (settings-flags.ts) and the --help text and
 * docs table (settings-text.ts). Every error names the setting and where the
 * value came from. Adding a setting is one entry in a schema. The agent bundles
 * these files: they import nothing but node:fs.
 *
 *   export const SCHEMA = {
 *     port: int({ default: 8080, env: 'PORT', flag: 'port', min: 0, max: 65535, help: 'TCP port' }),
 *   };
 *   const { values, configFile } = parseFlags(SCHEMA, argv);
 *   const cfg = merge(SCHEMA, { flags: values, env: process.env, ...readConfigFile(configFile) });
 */
import fs from 'node:fs';

export type Kind = 'string' | 'int' | 'bool' | 'list';

/** One setting. `T` is the type of its value once merged. */
export interface Setting<T = unknown> {
  kind: Kind;
  default: T;
  /** The flag without its dashes. */
  flag: string;
  /** Environment variable; none for a flag that is only a flag. */
  env?: string;
  help: string;
  /** Placeholder of the value in --help (default N for ints, VALUE otherwise). */
  arg?: string;
  /** Must be set by some source (shown as "required"). */
  required?: boolean;
  /** Inclusive bounds of an int. */
  min?: number;
  max?: number;
  choices?: readonly string[];
  /** A string must match it (else it must be non-empty); `shape` says what it means. */
  pattern?: RegExp;
  shape?: string;
}

export type Schema = Record<string, Setting>;
export type Values<S extends Schema> = { -readonly [K in keyof S]: S[K] extends Setting<infer T> ? T : never };

export class SettingsError extends Error {
  override name = 'SettingsError';
}

interface Common {
  flag: string;
  env?: string;
  help: string;
  arg?: string;
}

export function str<const C extends readonly string[]>(o: Common & { choices: C; default: C[number] }): Setting<C[number]>;
export function str(o: Common & { default: string; pattern?: RegExp; shape?: string }): Setting<string>;
export function str(o: Common & { required: true }): Setting<string>;
export function str(o: Common): Setting<string | undefined>;
export function str(o: Common): Setting<unknown> {
  return { kind: 'string', default: undefined, ...o };
}
export function int(o: Common & { default: number; min?: number; max?: number }): Setting<number>;
export function int(o: Common & { min?: number; max?: number }): Setting<number | undefined>;
export function int(o: Common): Setting<unknown> {
  return { kind: 'int', default: undefined, ...o };
}
export const bool = (o: Common & { default: boolean }): Setting<boolean> => ({ kind: 'bool', ...o });
export const list = (o: Common): Setting<string[]> => ({ kind: 'list', default: [], ...o });

const shown = (raw: unknown) => {
  const s = JSON.stringify(raw) ?? String(raw);
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
};

/** An int's bounds: `0..65535`, `>= 1`, `<= 9`, or undefined. */
export function rangeText(spec: Setting): string | undefined {
  if (spec.min !== undefined && spec.max !== undefined) return `${spec.min}..${spec.max}`;
  if (spec.min !== undefined) return `>= ${spec.min}`;
  return spec.max !== undefined ? `<= ${spec.max}` : undefined;
}

/** Checks and converts one raw value; `where` is its source (`--port`, `PORT`, `config file x.json`). */
export function convert(key: string, spec: Setting, raw: unknown, where: string): unknown {
  const bad = (what: string) => new SettingsError(`${where}: ${key} must be ${what}`);
  switch (spec.kind) {
    case 'string':
      if (typeof raw !== 'string') throw bad('a string');
      if (spec.choices && !spec.choices.includes(raw)) throw bad(`one of ${spec.choices.join(', ')}, got ${shown(raw)}`);
      if (spec.pattern && !spec.pattern.test(raw)) throw bad(`${spec.shape ?? `like ${spec.pattern}`}, got ${shown(raw)}`);
      if (!spec.pattern && raw === '') throw bad('a non-empty string');
      return raw;
    case 'int': {
      const n = typeof raw === 'string' && /^-?\d+$/.test(raw.trim()) ? Number(raw) : raw;
      const ok = typeof n === 'number' && Number.isSafeInteger(n) && n >= (spec.min ?? -Infinity) && n <= (spec.max ?? Infinity);
      const range = rangeText(spec);
      if (!ok) throw bad(`an integer${range ? `${range.includes('..') ? ' in' : ''} ${range}` : ''}, got ${shown(raw)}`);
      return n;
    }
    case 'bool':
      if (typeof raw === 'boolean') return raw;
      if (typeof raw === 'string' && /^(1|true|yes|on)$/i.test(raw)) return true;
      if (typeof raw === 'string' && /^(0|false|no|off)$/i.test(raw)) return false;
      throw bad(`true or false, got ${shown(raw)}`);
    case 'list': {
      const items = Array.isArray(raw) ? raw : typeof raw === 'string' ? raw.split(',') : null;
      if (!items?.every((x) => typeof x === 'string')) throw bad('a list of strings');
      return (items as string[]).map((x) => x.trim()).filter(Boolean);
    }
  }
}

/** The flag of a setting with its environment variable, as error messages name it. */
export const flagName = (spec: Setting) => `--${spec.flag}${spec.env ? ` (or ${spec.env})` : ''}`;

export interface Sources {
  /** Strongest: values from parseFlags or given in code (checked again, named as options). */
  flags?: Record<string, unknown>;
  env?: Record<string, string | undefined>;
  /** The parsed JSON config file, keys as in the schema, and its name for errors. */
  file?: Record<string, unknown>;
  fileName?: string;
}

/** Merges flags > env > file > defaults, checks every value, then the required ones (unless requireAll is false). */
export function merge<S extends Schema>(schema: S, src: Sources, opts: { requireAll?: boolean } = {}): Values<S> {
  const file = src.file ?? {};
  const fileWhere = src.fileName ? `config file ${src.fileName}` : 'config file';
  for (const k of Object.keys(file)) {
    if (!Object.hasOwn(schema, k)) throw new SettingsError(`${fileWhere}: unknown key '${k}'`);
  }
  const out: Record<string, unknown> = {};
  for (const [key, spec] of Object.entries(schema)) {
    let v: unknown = spec.default;
    if (file[key] !== undefined) v = convert(key, spec, file[key], fileWhere);
    const e = spec.env === undefined ? undefined : src.env?.[spec.env];
    if (e !== undefined && e !== '') v = convert(key, spec, e, spec.env!);
    if (src.flags?.[key] !== undefined) v = convert(key, spec, src.flags[key], 'option');
    out[key] = Array.isArray(v) ? [...v] : v;
  }
  if (opts.requireAll !== false) {
    const missing = Object.entries(schema).filter(([key, spec]) => spec.required && out[key] === undefined);
    if (missing.length) throw new SettingsError(`missing ${missing.map(([, spec]) => flagName(spec)).join(', ')}`);
  }
  return out as Values<S>;
}

/** Reads a JSON config file for merge(): `{ file, fileName }`, or `{}` without a name. */
export function readConfigFile(name: string | undefined): Pick<Sources, 'file' | 'fileName'> {
  if (!name) return {};
  let v: unknown;
  try {
    v = JSON.parse(fs.readFileSync(name, 'utf8'));
  } catch (e) {
    throw new SettingsError(`config file ${name}: ${(e as Error).message.split('\n')[0]}`);
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new SettingsError(`config file ${name}: not a JSON object`);
  return { file: v as Record<string, unknown>, fileName: name };
}
