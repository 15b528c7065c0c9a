// The settings tables of docs/agent.md and docs/server.md are the ones the
// schemas generate, row for row. On a failure, paste the expected table
// (printed by the diff, or by `node --import tsx -e "import('./server/config.ts')
// .then(async (c) => console.log((await import('./lib/settings-text.ts')).markdownTable(c.SETTINGS)))"`).
import fs from 'node:fs';
import test from 'ava';
import { SCHEMA } from '../../agent/config.ts';
import type { Schema } from '../../lib/settings.ts';
import { markdownTable, TABLE_HEADER } from '../../lib/settings-text.ts';
import { SETTINGS } from '../../server/config.ts';

/** The table that starts with the settings header, up to its last row. */
function docTable(file: string): string {
  const lines = fs.readFileSync(new URL(`../../${file}`, import.meta.url), 'utf8').split('\n');
  const at = lines.indexOf(TABLE_HEADER);
  if (at < 0) return `(no settings table in ${file})`;
  let end = at;
  while (lines[end]?.startsWith('|')) end++;
  return lines.slice(at, end).join('\n');
}

const cases: [string, Schema][] = [
  ['docs/agent.md', SCHEMA],
  ['docs/server.md', SETTINGS],
];
for (const [file, schema] of cases) {
  test(`${file}: the settings table is the schema's`, (t) => {
    const table = docTable(file);
    t.is(table, markdownTable(schema));
    t.is(table.split('\n').length, 2 + Object.keys(schema).length);
  });
}
