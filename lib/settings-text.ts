/**
 * What users read of a settings schema (lib/settings.ts): the --help text and
 * the markdown table of the docs, both generated, so neither can drift from
 * the schema (test/unit/settings-docs.test.ts compares the docs' tables).
 */
import { rangeText, type Schema, type Setting } from './settings.ts';

export function defaultText(spec: Setting): string {
  const d = spec.default;
  if (d === undefined) return spec.required ? 'required' : '-';
  if (Array.isArray(d)) return d.length ? d.join(',') : '-';
  return d === '' ? "''" : String(d);
}

/** The help with what the checks accept: choices or an int's range. */
export function describe(spec: Setting, sep = '|'): string {
  if (spec.choices) return `${spec.help} (${spec.choices.join(sep)})`;
  const range = spec.kind === 'int' ? rangeText(spec) : undefined;
  return range ? `${spec.help} (${range})` : spec.help;
}

const argOf = (spec: Setting) => (spec.kind === 'bool' ? '' : ` ${spec.arg ?? (spec.kind === 'int' ? 'N' : 'VALUE')}`);

/** Two lines per flag; with `sources`, its default, variable and file key too. */
export function optionLines(schema: Schema, opts: { sources: boolean }): string[] {
  const lines: string[] = [];
  for (const [key, spec] of Object.entries(schema)) {
    lines.push(`  --${spec.flag}${argOf(spec)}`);
    const where = opts.sources ? ` Default: ${defaultText(spec)}.${spec.env ? ` Env: ${spec.env}.` : ''} File key: ${key}.` : '';
    lines.push(`      ${describe(spec)}.${where}`);
  }
  return lines;
}

export interface HelpParts {
  usage: string[];
  /** Environment variable naming the config file. */
  configEnv: string;
  /** Lines between the introduction and the settings (e.g. a command's own options). */
  before?: string[];
}

export function helpText(schema: Schema, parts: HelpParts): string {
  return [
    ...parts.usage,
    '',
    'Each setting may also come from its environment variable (Env) or from the JSON file named by',
    `--config FILE or ${parts.configEnv} (File key). Flags win over the environment, which wins over the file.`,
    '',
    ...(parts.before ?? []),
    'Settings:',
    ...optionLines(schema, { sources: true }),
    '  --config FILE',
    `      JSON config file. Env: ${parts.configEnv}.`,
    '  --help',
    '      this text.',
  ].join('\n');
}

export const TABLE_HEADER = '| file key | flag | environment | type | default | meaning |';

/** The settings table of the docs. */
export function markdownTable(schema: Schema): string {
  const rows = [TABLE_HEADER, '| --- | --- | --- | --- | --- | --- |'];
  for (const [key, spec] of Object.entries(schema)) {
    rows.push(
      `| ${key} | --${spec.flag} | ${spec.env ?? '-'} | ${spec.kind} | ${defaultText(spec)} | ${describe(spec, ', ').replaceAll('|', '\\|')} |`,
    );
  }
  return rows.join('\n');
}
