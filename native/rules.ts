// The rule book: takes the contract's rules (contract/rule.ts) as they are,
// hands out hit-counter slots and keeps the kernel's "which rule shapes exist"
// bits in step with the rules. The addon alone encodes a rule for the kernel
// (native/rule-key.cc: protocol numbers, ICMP types, class bits).
import { type Prefix, prefixOf } from '../contract/net/prefix.ts';
import { matchKey, matchProblem, type Rule, type RuleMatch } from '../contract/rule.ts';
import type { RawPrefix, RawProgram, RawRuleMatch, RuleEntry } from './binding.ts';

export type { Protocol } from '../contract/rule.ts';

/**
 * The contract's rule; its source may also be given as text
 * ("198.18.0.0/15", "2001:db8::/32", "198.18.0.7"), which the contract's one
 * prefix parser reads (tests, benches).
 */
export type RuleSpec = Omit<Rule, 'source'> & { source: Prefix | string };

export class RuleError extends Error {
  readonly operation: string;
  constructor(
    readonly code: string,
    operation: string,
    message: string,
  ) {
    super(`${operation}: ${message}`);
    this.operation = operation;
  }
}

/** A prefix as the addon reads it. */
export const rawPrefix = (p: Prefix): RawPrefix => ({ family: p.family, address: Buffer.from(p.bytes), prefixLen: p.length });

/** A spec as the contract's match, checked; a RuleError names what is wrong. */
export function toMatch(spec: RuleSpec, operation: string): RuleMatch {
  let source: Prefix;
  try {
    source = typeof spec.source === 'string' ? prefixOf(spec.source) : spec.source;
  } catch (e) {
    throw new RuleError('EINVAL', operation, (e as Error).message);
  }
  const m: RuleMatch = {
    source,
    ...(spec.protocol !== undefined ? { protocol: spec.protocol } : {}),
    ...(spec.port !== undefined && spec.port !== 0 ? { port: spec.port } : {}),
    ...(spec.icmpType !== undefined ? { icmpType: spec.icmpType } : {}),
  };
  const problem = matchProblem(m);
  if (problem) throw new RuleError('EINVAL', operation, problem);
  return m;
}

const raw = (m: RuleMatch): RawRuleMatch => ({ ...rawPrefix(m.source), protocol: m.protocol, port: m.port, icmpType: m.icmpType });

/** A kernel rule as the contract's match. */
export function matchOf(e: RuleEntry): RuleMatch {
  return {
    source: prefixOf(`${e.address}/${e.prefixLen}`),
    ...(e.protocol ? { protocol: e.protocol } : {}),
    ...(e.port ? { port: e.port } : {}),
    ...(e.icmpType !== undefined ? { icmpType: e.icmpType } : {}),
  };
}

/**
 * One writer per interface (the agent) is assumed: the book is read from the
 * kernel when it is made, then kept in step with every change it makes.
 */
export class RuleBook {
  private readonly rules = new Map<string, { slot: number; bit: number }>();
  private readonly used = new Set<number>();
  private readonly perClass = new Map<number, number>();
  private nextSlot = 0;

  constructor(
    private readonly prog: RawProgram,
    private readonly maxRules: number,
  ) {
    for (const r of prog.listRules()) this.track(matchKey(matchOf(r)), r.slot, r.classBit, +1);
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
    const key = matchKey(m);
    const known = this.rules.get(key);
    if (!known && this.used.size >= this.maxRules)
      throw new RuleError('ENOSPC', 'addRule', `drop-rule map is full (${this.maxRules} rules); existing rules are unchanged`);
    const slot = known?.slot ?? this.allocate();
    const bit = this.prog.putRule({ ...raw(m), mode, expiresAt, slot, resetStats: !known });
    if (!known) {
      this.track(key, slot, bit, +1);
      this.syncClasses();
    }
  }

  /** True when a rule with this match is in the book (whatever its mode and expiry). */
  has(spec: RuleSpec): boolean {
    return this.rules.has(matchKey(toMatch(spec, 'hasRule')));
  }

  delete(spec: RuleSpec): boolean {
    const m = toMatch(spec, 'deleteRule');
    const key = matchKey(m);
    const known = this.rules.get(key);
    if (!known) return false;
    this.prog.deleteRule(raw(m));
    this.track(key, known.slot, known.bit, -1);
    this.syncClasses();
    return true;
  }

  /** Removes rules past their expiry (the kernel already ignores them). */
  pruneExpired(): RuleEntry[] {
    const gone = this.prog.listRules().filter((r) => r.expired);
    for (const r of gone) {
      const m = matchOf(r);
      this.prog.deleteRule(raw(m));
      this.track(matchKey(m), r.slot, r.classBit, -1);
    }
    if (gone.length) this.syncClasses();
    return gone;
  }

  private allocate(): number {
    while (this.used.has(this.nextSlot)) this.nextSlot = (this.nextSlot + 1) % this.maxRules;
    return this.nextSlot;
  }

  private track(key: string, slot: number, bit: number, delta: 1 | -1): void {
    if (delta > 0) {
      this.used.add(slot);
      this.rules.set(key, { slot, bit });
    } else {
      this.used.delete(slot);
      this.rules.delete(key);
    }
    this.perClass.set(bit, (this.perClass.get(bit) ?? 0) + delta);
  }

  private syncClasses(): void {
    let bits = 0;
    for (const [bit, n] of this.perClass) if (n > 0) bits |= bit;
    this.prog.setConfig({ ruleClasses: bits });
  }
}
