/**
 * The command-line half of a settings schema (lib/settings.ts): `--flag value`,
 * `--flag=value`, `--bool`, `--no-bool`, a list flag repeated or
 * comma-separated. `--config FILE` is returned apart; anything else that is not
 * a flag of the schema is an error naming it.
 */
import { convert, type Schema, SettingsError, type Values } from './settings.ts';

export interface Parsed<S extends Schema> {
  values: Partial<Values<S>>;
  configFile?: string;
}

export function parseFlags<S extends Schema>(schema: S, argv: readonly string[]): Parsed<S> {
  const byFlag = new Map(Object.entries(schema).map(([key, spec]) => [spec.flag, key]));
  const values: Record<string, unknown> = {};
  let configFile: string | undefined;
  for (let n = 0; n < argv.length; n++) {
    const arg = argv[n]!;
    const m = /^--([a-z0-9-]+)(?:=(.*))?$/s.exec(arg);
    if (!m) throw new SettingsError(`unexpected argument '${arg}' (see --help)`);
    let name = m[1]!;
    const inline = m[2];
    const take = (): string => {
      if (inline !== undefined) return inline;
      const next = argv[++n];
      if (next === undefined) throw new SettingsError(`--${name} needs a value`);
      return next;
    };
    if (name === 'config') {
      configFile = take();
      continue;
    }
    let negate = false;
    if (!byFlag.has(name) && name.startsWith('no-') && schema[byFlag.get(name.slice(3)) ?? '']?.kind === 'bool') {
      negate = true;
      name = name.slice(3);
    }
    const key = byFlag.get(name);
    if (key === undefined) throw new SettingsError(`unknown option --${name} (see --help)`);
    const spec = schema[key]!;
    if (spec.kind === 'bool') {
      if (negate && inline !== undefined) throw new SettingsError(`--no-${name} takes no value`);
      values[key] = negate ? false : inline === undefined ? true : convert(key, spec, inline, `--${name}`);
    } else if (spec.kind === 'list') {
      values[key] = [...((values[key] as string[] | undefined) ?? []), ...(convert(key, spec, take(), `--${name}`) as string[])];
    } else {
      values[key] = convert(key, spec, take(), `--${name}`);
    }
  }
  return { values: values as Partial<Values<S>>, ...(configFile !== undefined ? { configFile } : {}) };
}
