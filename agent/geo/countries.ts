/**
 * Countries of addresses: `lookup(address)` gives the ISO 3166-1 alpha-2 code
 * of an IPv4 or IPv6 address in the loaded database, or null (not in it, or
 * not an address). Addresses are read with the contract's parser; an
 * IPv4-mapped IPv6 address (::ffff:a.b.c.d) is looked up as its IPv4.
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import { parseIPv4, parseIPv6 } from '../../contract/net/address.ts';
import { SCHEMA } from '../config.ts';
import { loadTable } from './load.ts';
import type { CountryTable } from './table.ts';

/** The shipped database, the setting's default: an npm package (README.md, "Data"). */
export const SHIPPED_DATABASE = SCHEMA.geoDatabase.default;

/**
 * The directory a `geoDatabase` setting names: a path (starting with / or .),
 * or an installed package's directory; null for '' or 'off' (no countries).
 */
export function databaseDir(setting: string, from: string = import.meta.url): string | null {
  if (setting === '' || setting === 'off') return null;
  if (setting.startsWith('/') || setting.startsWith('.')) return path.resolve(setting);
  return path.dirname(createRequire(from).resolve(`${setting}/package.json`));
}

const word = (b: readonly number[], at: number) => ((b[at]! << 24) | (b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!) >>> 0;

export class Countries {
  constructor(readonly table: CountryTable) {}

  static load(dir: string): Countries {
    return new Countries(loadTable(dir));
  }

  /** The table's index of the address's country (0: none); codeOf turns it into the code. */
  indexOf(address: string): number {
    const v4 = parseIPv4(address);
    if (v4) return this.table.index4(word(v4, 0));
    const b = parseIPv6(address);
    if (!b) return 0;
    const w0 = word(b, 0),
      w1 = word(b, 4),
      w2 = word(b, 8);
    if (w0 === 0 && w1 === 0 && w2 === 0xffff) return this.table.index4(word(b, 12));
    return this.table.index6(w0, w1, w2, word(b, 12));
  }

  codeOf(index: number): string | null {
    return this.table.code(index);
  }

  lookup(address: string): string | null {
    return this.codeOf(this.indexOf(address));
  }
}
