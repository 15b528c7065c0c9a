/**
 * `breakwater agent ...`: runAgentCli(argv) takes the arguments after the
 * program name (a leading "agent" is optional) and resolves to the exit
 * status. Shutdown is two-stage: the first SIGTERM/SIGINT stops the tick,
 * flushes the spool, saves the state and closes the addon (the program and
 * its rules stay in the kernel unless --detach-on-exit); a second one exits
 * at once. The status reflects the signal (128 + its number).
 *
 *   breakwater agent --iface eth0 --server https://bw.example:8080
 *   breakwater agent detach --iface eth0 [--netns NS]
 *   node --import tsx agent/cli.ts agent --help
 */
import os from 'node:os';
import { pathToFileURL } from 'node:url';
import { readConfigFile } from '../lib/settings.ts';
import { Agent } from './agent.ts';
import { CONFIG_ENV, ConfigError, helpText, parseFlags, resolveConfig } from './config.ts';
import { createLogger, survivePipeLoss } from './log.ts';

async function detach(args: string[]): Promise<number> {
  const { values } = parseFlags(args);
  const iface = values.iface;
  if (!iface) throw new ConfigError('detach needs --iface');
  const { Breakwater } = await import('../native/index.ts');
  try {
    Breakwater.detachInterface(iface, values.netns ? { netns: values.netns } : {});
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
      process.stderr.write(`breakwater is not attached to ${iface}\n`);
      return 1;
    }
    throw e;
  }
  process.stdout.write(`detached from ${iface}: program, rules and pins removed\n`);
  return 0;
}

export async function runAgentCli(argv: string[]): Promise<number> {
  let args = argv[0] === 'agent' ? argv.slice(1) : argv;
  if (args.includes('--help') || args.includes('-h')) {
    process.stdout.write(`${helpText()}\n`);
    return 0;
  }
  try {
    if (args[0] === 'detach') return await detach(args.slice(1));
    const { values, configFile } = parseFlags(args);
    const cfg = resolveConfig({ flags: values, env: process.env, ...readConfigFile(configFile ?? process.env[CONFIG_ENV]) });
    args = [];
    const log = createLogger(cfg.logLevel);
    survivePipeLoss();
    const agent = new Agent(cfg, log);
    let signalled: NodeJS.Signals | null = null;
    let release!: () => void;
    const stopped = new Promise<void>((r) => (release = r));
    const onSignal = (sig: NodeJS.Signals) => {
      if (signalled) {
        log.warn('second signal: exiting now', { signal: sig });
        process.exit(128 + (os.constants.signals[sig] ?? 15));
      }
      signalled = sig;
      log.info('stopping', { signal: sig });
      release();
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
    await agent.start();
    await stopped;
    await agent.stop();
    log.info('stopped', { spooled: agent.spooled, ...agent.stats, delivered: agent.outbox.sent });
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
    return 128 + (os.constants.signals[signalled as unknown as NodeJS.Signals] ?? 15);
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`breakwater agent: ${e.message}\n`);
      return 2;
    }
    process.stderr.write(`breakwater agent: ${(e as Error).message}\n`);
    return 1;
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  runAgentCli(process.argv.slice(2)).then((code) => process.exit(code));
}
