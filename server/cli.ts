// The `breakwater` command line (scripts/breakwater.mjs loads this file):
// `breakwater server`, and the admin commands `workspace create`, `node create`,
// `token create`, `policy create` and `policy list` (response policies,
// docs/policies.md, from a JSON file), `kill-switch on|off` (a node's, with
// --node, or the workspace's: every server process pushes it to the agents
// at once through the database's notification), which take the same settings, write to the database
// directly and print the new secret once on stdout (never to logs). With the
// embedded database, stop the server first: one process owns a data directory.
// `breakwater --help` is generated from COMMANDS, ADMIN and config.ts's
// SETTINGS. A bad flag or setting is one line on stderr and status 2; a refusal
// (data directory in use, database unreachable, no such workspace) one line
// and status 1. The server and database modules are imported when a command
// runs, so --help and a bad flag answer at once.

import fs from 'node:fs';
import { int, readConfigFile, SettingsError, str, type Values } from '../lib/settings.ts';
import { parseFlags } from '../lib/settings-flags.ts';
import { helpText, optionLines } from '../lib/settings-text.ts';
import { CONFIG_ENV, resolveConfig, SETTINGS, type ServerConfig } from './config.ts';
import { createLogger, type Logger } from './log.ts';

/** The admin commands' own flags (not settings: no environment variable, no file key). */
const ADMIN = {
  name: str({ flag: 'name', arg: 'NAME', help: 'name of the workspace, node or token' }),
  workspace: str({ flag: 'workspace', arg: 'ID', help: 'workspace id or UUID' }),
  ip: str({ flag: 'ip', arg: 'IP', help: "the node's address, shown in Prometheus" }),
  file: str({ flag: 'file', arg: 'FILE', help: "a policy's JSON (docs/policies.md); - reads it from standard input" }),
  node: int({ flag: 'node', min: 1, max: 2 ** 31 - 1, help: "a node's id (kill-switch: that node's switch, not the workspace's)" }),
  ppsThreshold: int({
    flag: 'pps-threshold',
    min: 1,
    max: 999_999_999_999_999,
    help: "the node's own PPS threshold; without it the workspace's",
  }),
};
type AdminFlag = keyof typeof ADMIN;

const COMMANDS: Record<string, { needs: AdminFlag[]; takes: AdminFlag[]; prints?: string }> = {
  server: { needs: [], takes: [] },
  'workspace create': { needs: ['name'], takes: [], prints: '{ id, uuid, name, token }' },
  'node create': { needs: ['workspace', 'name'], takes: ['ip', 'ppsThreshold'], prints: '{ id, uuid, key }' },
  'token create': { needs: ['workspace'], takes: ['name'], prints: '{ id, token }' },
  'policy create': { needs: ['workspace', 'file'], takes: [], prints: 'the policy' },
  'policy list': { needs: ['workspace'], takes: [], prints: 'one policy a line' },
  'kill-switch on': { needs: ['workspace'], takes: ['node'], prints: '{ workspace, node?, kill_switch }' },
  'kill-switch off': { needs: ['workspace'], takes: ['node'], prints: '{ workspace, node?, kill_switch }' },
};

export function usage(): string {
  const flag = (k: AdminFlag) => `--${ADMIN[k].flag} ${ADMIN[k].arg ?? 'N'}`;
  const lines = Object.entries(COMMANDS).map(([cmd, c], n) => {
    const args = [...c.needs.map(flag), ...c.takes.map((k) => `[${flag(k)}]`), '[settings]'].join(' ');
    return `${n ? '      ' : 'Usage:'} breakwater ${cmd} ${args}${c.prints ? `  prints ${c.prints}` : ''}`;
  });
  return helpText(SETTINGS, {
    usage: [...lines, '       breakwater agent ...  (breakwater agent --help)'],
    configEnv: CONFIG_ENV,
    before: ['Admin command options:', ...optionLines(ADMIN, { sources: false }), ''],
  });
}

interface Invocation {
  command: string;
  cfg: ServerConfig;
  flags: Partial<Values<typeof ADMIN>>;
}

/** `server`, or a noun and its verb (`node create`); the flags follow. */
function commandWords(argv: string[]): string[] {
  const [first, second] = argv;
  if (first === undefined || first.startsWith('-')) return [];
  return first === 'server' || second === undefined || second.startsWith('-') ? [first] : [first, second];
}

/** The command, its own flags and the settings; a SettingsError for anything wrong. */
function parse(argv: string[]): Invocation {
  const words = commandWords(argv);
  const command = words.join(' ');
  const c = COMMANDS[command];
  if (!c)
    throw new SettingsError(
      `${command ? `unknown command '${command}'` : 'no command'}: one of ${Object.keys(COMMANDS).join(', ')} comes first (see breakwater --help)`,
    );
  const { values, configFile } = parseFlags({ ...SETTINGS, ...ADMIN }, argv.slice(words.length));
  const flags: Record<string, unknown> = {};
  for (const k of Object.keys(ADMIN) as AdminFlag[]) {
    if (values[k] === undefined) continue;
    if (!c.needs.includes(k) && !c.takes.includes(k)) throw new SettingsError(`${command} takes no --${ADMIN[k].flag}`);
    flags[k] = values[k];
  }
  const missing = c.needs.filter((k) => flags[k] === undefined);
  if (missing.length) throw new SettingsError(`${command} needs ${missing.map((k) => `--${ADMIN[k].flag}`).join(', ')}`);
  // resolveConfig() takes the settings among the values; the admin flags are not settings.
  return {
    command,
    flags: flags as Invocation['flags'],
    cfg: resolveConfig(values, readConfigFile(configFile ?? process.env[CONFIG_ENV])),
  };
}

export async function main(argv: string[], out: (s: string) => void = (s) => process.stdout.write(`${s}\n`)): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    out(usage());
    return 0;
  }
  if (argv.length === 0) {
    process.stderr.write(`${usage()}\n`);
    return 2;
  }
  let inv: Invocation;
  try {
    inv = parse(argv);
  } catch (err) {
    if (!(err instanceof SettingsError)) throw err;
    process.stderr.write(`breakwater: ${err.message}\n`);
    return 2;
  }
  const log = createLogger(inv.cfg.logLevel);
  try {
    if (inv.command === 'server') return await serve(inv.cfg, log);
    await runAdmin(inv, out, log);
    return 0;
  } catch (err) {
    // One line: a refusal (data directory in use, no such workspace, database unreachable) is not a crash.
    process.stderr.write(`breakwater: ${oneLine(err)}\n`);
    return 1;
  }
}

/** An error's message on one line (an AggregateError, as a refused connection gives, has none of its own). */
function oneLine(err: unknown): string {
  const e = err as Error & { code?: string; errors?: Error[] };
  return (e.message || e.errors?.map((x) => x.message).join('; ') || e.code || String(err)).split('\n')[0]!;
}

async function serve(cfg: ServerConfig, log: Logger): Promise<number> {
  // Signals are handled from the start: one that arrives while the server starts stops it once it has.
  let signalled = false;
  let wake = () => {};
  const onSignal = (signal: NodeJS.Signals) => {
    if (signalled) process.exit(130); // second signal: leave now
    signalled = true;
    log.info('stopping', { signal });
    wake();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const { startServer } = await import('./index.ts');
  const srv = await startServer({ ...cfg, log });
  if (!signalled) await new Promise<void>((resolve) => (wake = resolve));
  await srv.close();
  return 0;
}

async function runAdmin({ command, cfg, flags }: Invocation, out: (s: string) => void, log: Logger): Promise<void> {
  const [{ admin }, { openDb }, { migrate }] = await Promise.all([import('./admin.ts'), import('./db.ts'), import('./migrate.ts')]);
  const db = await openDb({ databaseUrl: cfg.databaseUrl, dataDir: cfg.dataDir, poolSize: 2, log });
  try {
    await migrate(db, log);
    const a = admin(db);
    // parse() has checked that each command has the flags it needs.
    const { name, workspace, ip, ppsThreshold, file, node } = flags;
    if (command === 'workspace create') out(JSON.stringify(await a.createWorkspace(name!)));
    if (command === 'node create') out(JSON.stringify(await a.createNode(workspace!, name!, { ip, ppsThreshold })));
    if (command === 'token create') out(JSON.stringify(await a.createToken(workspace!, name)));
    if (command === 'policy create') out(JSON.stringify(await a.createPolicy(workspace!, readJsonFile(file!))));
    if (command === 'policy list') for (const p of await a.listPolicies(workspace!)) out(JSON.stringify(p));
    if (command.startsWith('kill-switch ')) out(JSON.stringify(await a.setKillSwitch(workspace!, command.endsWith(' on'), node)));
  } finally {
    await db.close();
  }
}

/** A JSON file (or standard input for -), with the reason when it is not JSON. */
function readJsonFile(file: string): unknown {
  const text = fs.readFileSync(file === '-' ? 0 : file, 'utf8');
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new Error(`${file === '-' ? 'standard input' : file}: not JSON (${(e as Error).message})`);
  }
}
