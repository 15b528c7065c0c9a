// The rule book: validates rule specs, hands out hit-counter slots and keeps
// the kernel's "which rule shapes exist" bits in step with the rules.
import { prefixOf, type Prefix as ParsedPrefix } from '../contract/net/prefix.ts';
import type { Protocol, Rule } from '../contract/rule.ts';
import { parsePrefix, type Prefix } from './prefix.ts';
import { addon, type RawProgram, type RawRuleMatch, type RuleEntry } from './binding.ts';

export type { Protocol } from '../contract/rule.ts';

/**
 * The contract's rule (contract/rule.ts); its source may also be given as
 * text ("198.18.0.0/15", "2001:db8::/32", "198.18.0.7"), which the
 * contract's one prefix parser reads (tests, benches).
 */
export type RuleSpec = Omit<Rule, 'source'> & { source: ParsedPrefix | string };

const PROTO_NUMBERS: Record<Protocol, [number, number]> = { tcp: [6, 6], udp: [17, 17], icmp: [1, 58] };
const CLASS_ANY = 0, CLASS_PROTO = 1, CLASS_PORT = 2;
/** An ICMP rule's port is ICMP_TYPE_PORT | type (bpf/breakwater.h). */
const ICMP_TYPE_PORT = addon.limits.icmpTypePort;

/** A kernel rule as users see it: an ICMP rule's type in icmpType, its port 0. */
export function presentRule(r: RuleEntry): RuleEntry {
  if ((r.protocol !== 1 && r.protocol !== 58) || (r.port & 0xff00) !== ICMP_TYPE_PORT) return r;
  return { ...r, port: 0, icmpType: r.port & 0xff };
}

export class RuleError extends Error {
  readonly operation: string;
  constructor(readonly code: string, operation: string, message: string) {
    super(`${operation}: ${message}`);
    this.operation = operation;
  }
}

function classOf(protocol: number, port: number): number {
  return port ? CLASS_PORT : protocol ? CLASS_PROTO : CLASS_ANY;
}

/** BW_CLASS_BIT() of bpf/breakwater.h: shape bits per family and kind (host or prefix). */
function classBit(family: 4 | 6, host: boolean, cls: number): number {
  return 1 << (cls + 3 * ((family === 6 ? 2 : 0) + (host ? 1 : 0)));
}

export function toMatch(spec: RuleSpec, operation: string): RawRuleMatch & Prefix {
  let source: ParsedPrefix;
  try {
    source = typeof spec.source === 'string' ? prefixOf(spec.source) : spec.source;
  } catch (e) {
    throw new RuleError('EINVAL', operation, (e as Error).message);
  }
  const prefix: Prefix = { family: source.family, address: Buffer.from(source.bytes), prefixLen: source.length };
  if (spec.protocol !== undefined && !(spec.protocol in PROTO_NUMBERS))
    throw new RuleError('EINVAL', operation, `protocol must be tcp, udp or icmp, not '${spec.protocol}'`);
  const protocol = spec.protocol ? PROTO_NUMBERS[spec.protocol]![prefix.family === 4 ? 0 : 1] : 0;
  const port = spec.port ?? 0;
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new RuleError('EINVAL', operation, `port must be an integer from 1 to 65535, not '${spec.port}'`);
  if (port && protocol !== 6 && protocol !== 17)
    throw new RuleError('EINVAL', operation, 'a destination port needs protocol tcp or udp');
  if (spec.icmpType === undefined) return { ...prefix, protocol, port };
  const t = spec.icmpType;
  if (spec.protocol !== 'icmp' || port) throw new RuleError('EINVAL', operation, 'an ICMP type needs protocol icmp and no port');
  if (!Number.isInteger(t) || t < 0 || t > 255) throw new RuleError('EINVAL', operation, `ICMP type must be an integer from 0 to 255, not '${t}'`);
  return { ...prefix, protocol, port: ICMP_TYPE_PORT | t };
}

function keyOf(family: 4 | 6, address: Buffer, prefixLen: number, protocol: number, port: number): string {
  return `${family}/${address.toString('hex')}/${prefixLen}/${protocol}/${port}`;
}

/**
 * One writer per interface (the agent) is assumed: the book is read from the
 * kernel when it is made, then kept in step with every change it makes.
 */
export class RuleBook {
  private readonly slots = new Map<string, number>();
  private readonly used = new Set<number>();
  private readonly perClass = new Map<number, number>();
  private nextSlot = 0;

  constructor(private readonly prog: RawProgram, private readonly maxRules: number) {
    for (const r of prog.listRules()) {
      const p = parsePrefix(`${r.address}/${r.prefixLen}`);
      this.track(keyOf(r.family, p.address, r.prefixLen, r.protocol, r.port), r.family, r.prefixLen, r.protocol, r.port, r.slot, +1);
    }
    this.syncClasses();
  }

  get size(): number {
    return this.used.size;
  }

  put(spec: RuleSpec): void {
    const m = toMatch(spec, 'addRule');
    const mode = spec.mode ?? 'drop';
    if (mode !== 'drop' && mode !== 'log') throw new RuleError('EINVAL', 'addRule', `mode must be 'drop' or 'log'`);
    const expiresAt = spec.expiresAt ?? (spec.ttlSeconds !== undefined ? Date.now() + spec.ttlSeconds * 1000 : 0);
    if (!Number.isFinite(expiresAt) || expiresAt < 0) throw new RuleError('EINVAL', 'addRule', 'expiry must be a time in the future');
    const key = keyOf(m.family, m.address, m.prefixLen, m.protocol ?? 0, m.port ?? 0);
    let slot = this.slots.get(key);
    const fresh = slot === undefined;
    if (slot === undefined) {
      if (this.used.size >= this.maxRules)
        throw new RuleError('ENOSPC', 'addRule', `drop-rule map is full (${this.maxRules} rules); existing rules are unchanged`);
      slot = this.allocate();
    }
    this.prog.putRule({ ...m, mode, expiresAt, slot, resetStats: fresh });
    if (fresh) {
      this.track(key, m.family, m.prefixLen, m.protocol ?? 0, m.port ?? 0, slot, +1);
      this.syncClasses();
    }
  }

  /** True when a rule with this match is in the book (whatever its mode and expiry). */
  has(spec: RuleSpec): boolean {
    const m = toMatch(spec, 'hasRule');
    return this.slots.has(keyOf(m.family, m.address, m.prefixLen, m.protocol ?? 0, m.port ?? 0));
  }

  delete(spec: RuleSpec): boolean {
    const m = toMatch(spec, 'deleteRule');
    const key = keyOf(m.family, m.address, m.prefixLen, m.protocol ?? 0, m.port ?? 0);
    const slot = this.slots.get(key);
    if (slot === undefined) return false;
    this.prog.deleteRule(m);
    this.track(key, m.family, m.prefixLen, m.protocol ?? 0, m.port ?? 0, slot, -1);
    this.syncClasses();
    return true;
  }

  /** Removes rules past their expiry (the kernel already ignores them). */
  pruneExpired(): RuleEntry[] {
    const gone = this.prog.listRules().filter((r) => r.expired);
    for (const r of gone) {
      const p = parsePrefix(`${r.address}/${r.prefixLen}`);
      this.prog.deleteRule({ ...p, protocol: r.protocol, port: r.port });
      this.track(keyOf(r.family, p.address, r.prefixLen, r.protocol, r.port), r.family, r.prefixLen, r.protocol, r.port, r.slot, -1);
    }
    if (gone.length) this.syncClasses();
    return gone;
  }

  private allocate(): number {
    while (this.used.has(this.nextSlot)) this.nextSlot = (this.nextSlot + 1) % this.maxRules;
    return this.nextSlot;
  }

  private track(key: string, family: 4 | 6, prefixLen: number, protocol: number, port: number, slot: number, delta: 1 | -1): void {
    if (delta > 0) {
      this.used.add(slot);
      this.slots.set(key, slot);
    } else {
      this.used.delete(slot);
      this.slots.delete(key);
    }
    const bit = classBit(family, prefixLen === (family === 4 ? 32 : 128), classOf(protocol, port));
    this.perClass.set(bit, (this.perClass.get(bit) ?? 0) + delta);
  }

  private syncClasses(): void {
    let bits = 0;
    for (const [bit, n] of this.perClass) if (n > 0) bits |= bit;
    this.prog.setConfig({ ruleClasses: bits });
  }
}
