#!/usr/bin/env node
// The `breakwater` command. The sources are TypeScript, run through tsx.
//   breakwater server | workspace create | node create | token create   (server/cli.ts)
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../server/cli.ts');
process.exitCode = await main(process.argv.slice(2));
