/**
 * The body of the kernel-rules report (POST /api/v1/agent/rules,
 * contract/wire/kernel-rules.ts), pure apart from reading the addon's state:
 * the addon's listRules entries with their origins (RuleOrigins, kept in
 * memory by agent/rule-report.ts: a command's rule with its server rule id,
 * auto-mitigation's as local, the rest unknown), expiries on the server's
 * clock, cut to the contract's bound with command rules first.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { KernelRuleOrigin } from '../contract/enums.ts';
import { MAX_KERNEL_RULES_REPORTED } from '../contract/limits.ts';
import { prefixOf } from '../contract/net/prefix.ts';
import { matchKey, type RuleMatch } from '../contract/rule.ts';
import type { KernelRule, KernelRulesReport } from '../contract/wire/kernel-rules.ts';
import type { ProgramInfo, RuleEntry } from '../native/index.ts';

type Known = { origin: Exclude<KernelRuleOrigin, 'unknown'>; ruleId?: number };

/** The key of a kernel rule, the same as the contract's matchKey of its match. */
export function entryKey(e: RuleEntry): string {
  return matchKey({
    source: prefixOf(`${e.address}/${e.prefixLen}`),
    ...(e.protocol ? { protocol: e.protocol } : {}),
    ...(e.port && e.icmpType === undefined ? { port: e.port } : {}),
    ...(e.icmpType !== undefined ? { icmpType: e.icmpType } : {}),
  });
}

/** Where each rule the agent put into the kernel came from, by match key. */
export class RuleOrigins {
  private readonly byKey = new Map<string, Known>();

  /** A command's rule: its server rule id (the structured form's rule.rule_id), when it gave one. */
  command(m: RuleMatch, ruleId?: number): void {
    this.byKey.set(matchKey(m), ruleId === undefined ? { origin: 'command' } : { origin: 'command', ruleId });
  }

  local(m: RuleMatch): void {
    this.byKey.set(matchKey(m), { origin: 'local' });
  }

  forget(m: RuleMatch): void {
    this.byKey.delete(matchKey(m));
  }

  of(key: string): Known | undefined {
    return this.byKey.get(key);
  }

  /** Forgets the rules the kernel no longer holds (pruned, removed by hand), so the book stays bounded. */
  retain(keys: ReadonlySet<string>): void {
    for (const k of this.byKey.keys()) if (!keys.has(k)) this.byKey.delete(k);
  }
}

export interface KernelState {
  rules: RuleEntry[];
  killSwitch: boolean;
  attached: boolean;
  xdpMode?: string;
}

const RANK: Record<KernelRuleOrigin, number> = { command: 0, local: 1, unknown: 2 };
const safe = (n: number) => Math.min(Math.max(0, Math.floor(n)), Number.MAX_SAFE_INTEGER);

/**
 * The report body (pure): expired rules left out (the kernel ignores them and
 * the next prune removes them); past `max`, command rules first, and
 * `truncated` said. `clockOffsetMs` puts expiries on the server's clock.
 */
export function buildReport(s: KernelState, origins: RuleOrigins, clockOffsetMs = 0, max = MAX_KERNEL_RULES_REPORTED): KernelRulesReport {
  const keys = new Set<string>();
  const rules: KernelRule[] = [];
  for (const e of s.rules) {
    const key = entryKey(e);
    keys.add(key);
    if (e.expired) continue;
    const known = origins.of(key);
    rules.push({
      source: `${e.address}/${e.prefixLen}`,
      ...(e.protocol ? { protocol: e.protocol } : {}),
      ...(e.icmpType !== undefined ? { icmp_type: e.icmpType } : e.port ? { port: e.port } : {}),
      mode: e.mode,
      expires_at: e.expiresAt > 0 ? new Date(e.expiresAt + clockOffsetMs).toISOString() : null,
      origin: known?.origin ?? 'unknown',
      ...(known?.ruleId !== undefined ? { rule_id: known.ruleId } : {}),
      packets: safe(e.packets),
      bytes: safe(e.bytes),
    });
  }
  origins.retain(keys);
  const truncated = rules.length > max;
  if (truncated) rules.sort((a, b) => RANK[a.origin] - RANK[b.origin]);
  return {
    rules: truncated ? rules.slice(0, max) : rules,
    ...(truncated ? { truncated } : {}),
    kill_switch: s.killSwitch,
    attached: s.attached,
    ...(s.xdpMode ? { xdp_mode: s.xdpMode } : {}),
  };
}

/** The program is attached: open, and its link still pinned (`breakwater agent detach` removes the pins). */
export function isAttached(info: ProgramInfo): boolean {
  return info.open && info.ifindex > 0 && (!info.pinDir || fs.existsSync(path.join(info.pinDir, 'link')));
}

/** What a report says, read from the addon. */
export function kernelState(bw: { listRules(): RuleEntry[]; config(): { killSwitch: boolean }; readonly info: ProgramInfo }): KernelState {
  const info = bw.info;
  return {
    rules: bw.listRules(),
    killSwitch: bw.config().killSwitch,
    attached: isAttached(info),
    ...(info.mode ? { xdpMode: info.mode } : {}),
  };
}
