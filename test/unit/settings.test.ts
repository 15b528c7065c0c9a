// The generic settings machinery (lib/settings*.ts) on a schema of its own:
// conversion and its errors, flag parsing, the merge order, the config file,
// --help and the docs table.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import test from 'ava';
import { bool, int, list, merge, readConfigFile, SettingsError, str } from '../../lib/settings.ts';
import { parseFlags } from '../../lib/settings-flags.ts';
import { helpText, markdownTable } from '../../lib/settings-text.ts';

const S = {
  port: int({ default: 80, env: 'T_PORT', flag: 'port', min: 0, max: 65535, help: 'a port' }),
  level: str({ default: 'info', choices: ['info', 'debug'], env: 'T_LEVEL', flag: 'level', help: 'a level' }),
  prefix: str({ default: 'p_', env: 'T_PREFIX', flag: 'prefix', pattern: /^[a-z_]*$/, shape: 'lower case', help: 'a prefix' }),
  url: str({ required: true, env: 'T_URL', flag: 'url', arg: 'URL', help: 'where to | go' }),
  note: str({ env: 'T_NOTE', flag: 'note', help: 'free text' }),
  fast: bool({ default: false, env: 'T_FAST', flag: 'fast', help: 'go fast' }),
  allow: list({ env: 'T_ALLOW', flag: 'allow', help: 'allowed' }),
  only: str({ flag: 'only', help: 'a flag without a variable' }),
  tiny: int({ flag: 'tiny', max: 9, help: 'at most nine' }),
  count: int({ flag: 'count', help: 'any integer' }),
};
const url = { url: 'http://x' };

test('defaults, and the types they give', (t) => {
  const c = merge(S, { flags: url });
  const port: number = c.port,
    level: 'info' | 'debug' = c.level,
    note: string | undefined = c.note,
    allow: string[] = c.allow;
  t.deepEqual(
    { port, level, note, allow, prefix: c.prefix, fast: c.fast },
    { port: 80, level: 'info', note: undefined, allow: [], prefix: 'p_', fast: false },
  );
});

test('precedence: flags > env > file > defaults; an empty variable is unset', (t) => {
  const file = { port: 1, level: 'debug', note: 'file', url: 'http://file' };
  const env = { T_PORT: '2', T_NOTE: '', T_URL: 'http://env' };
  t.like(merge(S, { file, env }), { port: 2, level: 'debug', note: 'file', url: 'http://env' });
  t.like(merge(S, { file, env, flags: { port: 3, url: undefined } }), { port: 3, url: 'http://env' });
  t.like(merge(S, { file }), { port: 1 });
});

test('every bad value names the setting and where it came from', (t) => {
  const bad = (src: Parameters<typeof merge>[1], message: string) =>
    t.throws(() => merge(S, { ...src, flags: { ...url, ...src.flags } }), { instanceOf: SettingsError, message });
  bad({ env: { T_PORT: '70000' } }, 'T_PORT: port must be an integer in 0..65535, got "70000"');
  bad({ env: { T_PORT: '8x' } }, 'T_PORT: port must be an integer in 0..65535, got "8x"');
  bad({ file: { port: 1.5 }, fileName: 'a.json' }, 'config file a.json: port must be an integer in 0..65535, got 1.5');
  bad({ flags: { tiny: 10 } }, 'option: tiny must be an integer <= 9, got 10');
  bad({ flags: { count: 2 ** 53 } }, 'option: count must be an integer, got 9007199254740992');
  bad({ flags: { level: 'loud' } }, 'option: level must be one of info, debug, got "loud"');
  bad({ env: { T_PREFIX: 'A' } }, 'T_PREFIX: prefix must be lower case, got "A"');
  bad({ env: { T_FAST: 'maybe' } }, 'T_FAST: fast must be true or false, got "maybe"');
  bad({ file: { allow: [1] } }, 'config file: allow must be a list of strings');
  bad({ file: { note: '' } }, 'config file: note must be a non-empty string');
  bad({ file: { bogus: 1 }, fileName: 'a.json' }, "config file a.json: unknown key 'bogus'");
  t.throws(() => merge(S, {}), { message: 'missing --url (or T_URL)' });
  t.is(merge(S, {}, { requireAll: false }).url as string | undefined, undefined, 'requireAll: false lets a required setting be missing');
  t.is(merge(S, { flags: { ...url, prefix: '' } }).prefix, '', 'a pattern that matches the empty string allows it');
});

test('flags: forms, lists, negation, config, and what is refused', (t) => {
  const { values, configFile } = parseFlags(S, [
    '--port=8',
    '--fast',
    '--allow',
    'a, b',
    '--allow=c',
    '--config',
    'f.json',
    '--note',
    '--x',
  ]);
  t.deepEqual(values, { port: 8, fast: true, allow: ['a', 'b', 'c'], note: '--x' });
  t.is(configFile, 'f.json');
  t.false(parseFlags(S, ['--fast', '--no-fast']).values.fast);
  t.false(parseFlags(S, ['--fast=off']).values.fast);
  t.throws(() => parseFlags(S, ['--port', 'x']), { message: '--port: port must be an integer in 0..65535, got "x"' });
  t.throws(() => parseFlags(S, ['--prt', '1']), { message: 'unknown option --prt (see --help)' });
  t.throws(() => parseFlags(S, ['--no-port']), { message: 'unknown option --no-port (see --help)' });
  t.throws(() => parseFlags(S, ['--no-fast=1']), { message: '--no-fast takes no value' });
  t.throws(() => parseFlags(S, ['--url']), { message: '--url needs a value' });
  t.throws(() => parseFlags(S, ['stray']), { message: "unexpected argument 'stray' (see --help)" });
});

test('config file: read, or one line saying why not', (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bw-settings-'));
  try {
    const f = (name: string, text: string) => {
      fs.writeFileSync(path.join(dir, name), text);
      return path.join(dir, name);
    };
    t.deepEqual(readConfigFile(f('ok.json', '{"port": 9}')), { file: { port: 9 }, fileName: path.join(dir, 'ok.json') });
    t.deepEqual(readConfigFile(undefined), {});
    t.throws(() => readConfigFile(f('list.json', '[1]')), { message: /list\.json: not a JSON object$/ });
    t.throws(() => readConfigFile(f('bad.json', '{port')), { instanceOf: SettingsError, message: /^config file .*bad\.json: [^\n]+$/ });
    t.throws(() => readConfigFile(path.join(dir, 'none.json')), { message: /none\.json: ENOENT/ });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('--help and the table show each setting with its checks, default and sources', (t) => {
  const help = helpText(S, { usage: ['Usage: t'], configEnv: 'T_CONFIG' });
  t.true(help.includes('  --port N\n      a port (0..65535). Default: 80. Env: T_PORT. File key: port.'));
  t.true(help.includes('  --level VALUE\n      a level (info|debug). Default: info. Env: T_LEVEL. File key: level.'));
  t.true(help.includes('  --url URL\n      where to | go. Default: required. Env: T_URL. File key: url.'));
  t.true(help.includes('  --fast\n      go fast. Default: false.'));
  t.true(help.includes('  --only VALUE\n      a flag without a variable. Default: -. File key: only.'));
  t.true(help.includes('Env: T_CONFIG.'));
  const table = markdownTable(S).split('\n');
  t.is(table.length, 2 + Object.keys(S).length);
  t.is(table[2], '| port | --port | T_PORT | int | 80 | a port (0..65535) |');
  t.is(table[3], '| level | --level | T_LEVEL | string | info | a level (info, debug) |');
  t.is(table[5], '| url | --url | T_URL | string | required | where to \\| go |');
  t.is(table[9], '| only | --only | - | string | - | a flag without a variable |');
  t.is(table[10], '| tiny | --tiny | - | int | - | at most nine (<= 9) |');
});
