/**
 * The workspace's IOC patterns (GET /config `ioc_patterns`), compiled for
 * matching against sampled packets. A workspace may hold thousands, so they
 * are not tried one by one: each is filed under its first (up to) four
 * bytes; a pattern with an offset is looked up at that one position of the
 * L4 payload, the others at every position of it (the payload the head holds:
 * at most 128 bytes of the frame). The cost per packet is a table read per
 * position, a map read where two bytes begin some pattern, and a comparison
 * per pattern whose first four bytes are there.
 */
import { ATTACK_FAMILIES, type AttackFamily } from '../../contract/enums.ts';
import type { IocPattern } from '../../contract/wire/ioc.ts';
import { type Indicator, type Packet, withHit } from './signature.ts';

interface Compiled {
  indicator: Indicator;
  bytes: Buffer;
  offset: number | undefined;
  /** IP protocol numbers the pattern applies to; undefined: any. */
  protos: readonly number[] | undefined;
  port: number | undefined;
}

const PROTO_NUMBERS: Record<string, readonly number[]> = { tcp: [6], udp: [17], icmp: [1, 58] };
const FAMILIES: ReadonlySet<string> = new Set(ATTACK_FAMILIES);

/** A pattern as the contract has it, or why not (the server checks them; the agent does not trust that). */
function compile(p: Partial<IocPattern> | null, indicators: Map<string, Indicator>): Compiled | string {
  if (typeof p?.attack_name !== 'string' || !p.attack_name.trim()) return 'no attack_name';
  if (typeof p.attack_family !== 'string' || !FAMILIES.has(p.attack_family)) return `unknown attack_family '${p.attack_family}'`;
  const bytes =
    typeof p.hex === 'string' && /^(?:[0-9a-fA-F]{2})+$/.test(p.hex)
      ? Buffer.from(p.hex, 'hex')
      : typeof p.text === 'string' && p.text !== ''
        ? Buffer.from(p.text, 'utf8')
        : null;
  if (!bytes) return 'neither hex nor text';
  if (p.offset !== undefined && !(Number.isInteger(p.offset) && p.offset >= 0 && p.offset <= 127)) return 'bad offset';
  const protos = p.protocol === undefined ? undefined : PROTO_NUMBERS[p.protocol];
  if (p.protocol !== undefined && !protos) return `unknown protocol '${p.protocol}'`;
  if (p.port !== undefined && !(Number.isInteger(p.port) && p.port >= 1 && p.port <= 65_535 && protos && protos[0] !== 1))
    return 'bad port';
  const key = `${p.attack_family}\u0000${p.attack_name}`;
  const ind: Indicator = indicators.get(key) ?? {
    attack_name: p.attack_name,
    attack_family: p.attack_family as AttackFamily,
    source: 'workspace',
  };
  indicators.set(key, ind);
  if (p.botnet === true) ind.botnet = p.attack_name.slice(0, 100);
  return { indicator: ind, bytes, offset: p.offset, protos, port: p.port };
}

/** Patterns filed under their first bytes: four (a 32-bit key), or all of them when shorter. */
class PrefixTable {
  private readonly one: (Compiled[] | undefined)[] = [];
  private readonly byLength = [new Map<number, Compiled[]>(), new Map<number, Compiled[]>(), new Map<number, Compiled[]>()];
  /** Whether any pattern of 2 bytes or more starts with these two: most positions stop here. */
  private readonly first2 = new Uint8Array(65_536);

  add(c: Compiled): void {
    const b = c.bytes;
    if (b.length === 1) {
      const list = this.one[b[0]!] ?? [];
      list.push(c);
      this.one[b[0]!] = list;
      return;
    }
    const n = Math.min(4, b.length);
    this.first2[b.readUInt16BE(0)] = 1;
    const map = this.byLength[n - 2]!;
    const k = b.readUIntBE(0, n);
    const list = map.get(k);
    if (list) list.push(c);
    else map.set(k, [c]);
  }

  /** The patterns that start with the bytes at `i` (their first four, or all of a shorter one). */
  at(d: Buffer, i: number, visit: (c: Compiled) => void): void {
    const one = this.one[d[i]!];
    if (one) for (const c of one) visit(c);
    if (i + 1 >= d.length || !this.first2[(d[i]! << 8) | d[i + 1]!]) return;
    for (let n = 2; n <= 4 && i + n <= d.length; n++) {
      const list = this.byLength[n - 2]!.get(d.readUIntBE(i, n));
      if (list) for (const c of list) visit(c);
    }
  }
}

export class PatternIndex {
  /** Patterns with an offset, by offset: tried at that one position. */
  private readonly atOffset = new Map<number, PrefixTable>();
  /** Patterns without one: tried at every position of the payload. */
  private readonly anywhere = new PrefixTable();
  private anywhereCount = 0;
  /** Patterns compiled, and why the others were left out. */
  readonly size: number;
  readonly skipped: string[] = [];

  constructor(patterns: readonly IocPattern[]) {
    const indicators = new Map<string, Indicator>();
    let n = 0;
    for (const [i, p] of patterns.entries()) {
      const c = compile(p, indicators);
      if (typeof c === 'string') {
        this.skipped.push(`pattern ${i}: ${c}`);
        continue;
      }
      n++;
      if (c.offset === undefined) {
        this.anywhere.add(c);
        this.anywhereCount++;
      } else {
        const t = this.atOffset.get(c.offset) ?? new PrefixTable();
        this.atOffset.set(c.offset, t);
        t.add(c);
      }
    }
    this.size = n;
  }

  /** `out` with the indicators of every pattern the packet matches added. */
  match(p: Packet, out: ReadonlySet<Indicator> | null): ReadonlySet<Indicator> | null {
    if (this.size === 0) return out;
    const d = p.data;
    let at = 0;
    const visit = (c: Compiled) => {
      out = check(c, p, at, out);
    };
    for (const [offset, table] of this.atOffset) {
      at = p.head.payload + offset;
      if (at < d.length) table.at(d, at, visit);
    }
    if (this.anywhereCount) for (at = p.head.payload; at < d.length; at++) this.anywhere.at(d, at, visit);
    return out;
  }
}

function check(c: Compiled, p: Packet, at: number, out: ReadonlySet<Indicator> | null): ReadonlySet<Indicator> | null {
  if (out?.has(c.indicator)) return out;
  if (c.protos && !c.protos.includes(p.head.proto)) return out;
  if (c.port !== undefined && p.head.sport !== c.port && p.head.dport !== c.port) return out;
  const end = at + c.bytes.length;
  if (end > p.data.length || p.data.compare(c.bytes, 0, c.bytes.length, at, end) !== 0) return out;
  return withHit(out, c.indicator);
}
