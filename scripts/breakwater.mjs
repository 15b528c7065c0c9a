#!/usr/bin/env node
// The `breakwater` command.
//   breakwater agent ...                                                   (agent/cli.ts)
//   breakwater server | workspace create | node create | token create     (server/cli.ts)
// The agent runs from dist/agent.mjs, bundled by 'npm run build:agent' (the
// set-up does it): a long-running process on every protected host should not
// carry a TypeScript compiler. Everything else runs the sources through tsx.
import { existsSync } from 'node:fs';

const [command] = process.argv.slice(2);
const bundle = new URL('../dist/agent.mjs', import.meta.url);
if (command === 'agent' && existsSync(bundle)) {
  const { runAgentCli } = await import(bundle.href);
  process.exitCode = await runAgentCli(process.argv.slice(2));
} else {
  const { register } = await import('tsx/esm/api');
  register();
  if (command === 'agent') {
    const { runAgentCli } = await import('../agent/cli.ts');
    process.exitCode = await runAgentCli(process.argv.slice(2));
  } else {
    const { main } = await import('../server/cli.ts');
    process.exitCode = await main(process.argv.slice(2));
  }
}
