/**
 * Loads a country database in the ip-location-db CSV format (docs/geo.md):
 * a directory with one `*-ipv4-num.csv` and one `*-ipv6-num.csv` (either may
 * be missing, not both), ranges in ascending order, into a CountryTable.
 */
import fs from 'node:fs';
import path from 'node:path';
import { TableBuilder } from './build.ts';
import { countLines, readRows } from './csv.ts';
import type { CountryTable } from './table.ts';

/** The database files of a directory, by family. */
export function databaseFiles(dir: string): { v4?: string; v6?: string } {
  const names = fs.readdirSync(dir);
  const one = (suffix: string) => {
    const found = names.filter((f) => f.endsWith(suffix));
    if (found.length > 1) throw new Error(`${dir}: more than one *${suffix} (${found.join(', ')})`);
    return found[0] === undefined ? undefined : path.join(dir, found[0]);
  };
  const files = { v4: one('-ipv4-num.csv'), v6: one('-ipv6-num.csv') };
  if (!files.v4 && !files.v6) throw new Error(`${dir}: no *-ipv4-num.csv or *-ipv6-num.csv`);
  return files;
}

export function loadTable(dir: string): CountryTable {
  const { v4, v6 } = databaseFiles(dir);
  const b = new TableBuilder(v4 ? countLines(v4) : 0, v6 ? countLines(v6) : 0);
  if (v4)
    readRows(v4, (s, e, code) => {
      if (s[0] || s[1] || s[2] || e[0] || e[1] || e[2]) throw new Error('not an IPv4 address (over 32 bits)');
      b.add4(s[3]!, e[3]!, code);
    });
  if (v6) readRows(v6, (s, e, code) => b.add6(s, e, code));
  return b.build();
}
