/**
 * The safety check applied to every added rule before it reaches the kernel:
 * a rule may not cover a protected address (the server, the host's own
 * addresses, its default gateway) nor overlap a local allowlist prefix.
 * Deletes always pass: removing a drop cannot cut the host off.
 */
import { overlaps, type Prefix, parsePrefix } from '../net/prefix.ts';
import type { Command } from './types.ts';

export interface ProtectedEntry {
  /** What it is, for the refusal: "server", "host", "gateway", "allowlist". */
  label: string;
  prefix: Prefix;
}

/**
 * Compiles protected addresses and prefixes by label, e.g.
 * { server: ['203.0.113.5'], host: [...], gateway: [...], allowlist: ['10.0.0.0/8'] }.
 * Host bits are cleared (that only widens protection). Throws on an entry
 * that is not an address or prefix: that is a configuration error.
 */
export function protectedEntries(groups: Record<string, readonly string[]>): ProtectedEntry[] {
  const out: ProtectedEntry[] = [];
  for (const [label, list] of Object.entries(groups)) {
    for (const text of list) {
      const r = parsePrefix(text.trim(), true);
      if (!r.ok) throw new TypeError(`protected ${label} entry: ${r.reason}`);
      out.push({ label, prefix: r.prefix });
    }
  }
  return out;
}

export type SafetyResult = { ok: true } | { ok: false; reason: string };

export function checkSafety(cmd: Command, protect: readonly ProtectedEntry[]): SafetyResult {
  if (cmd.op === 'delete') return { ok: true };
  const src = cmd.rule.source;
  for (const e of protect) {
    if (overlaps(src, e.prefix)) {
      const what = e.prefix.length === (e.prefix.family === 4 ? 32 : 128) ? e.prefix.address : e.prefix.cidr;
      return { ok: false, reason: `${src.cidr} would drop the ${e.label} address ${what}` };
    }
  }
  return { ok: true };
}
