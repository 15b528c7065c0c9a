// What a response policy does about one incident report: pure, so that the
// rules (conditions, cooldown, the limit of rules, what a spoofed flood
// gets) are tested without a database. server/policy/respond.ts runs it for
// each report and makes the rules.
import { SEVERITIES, type Severity } from '../../contract/enums.ts';
import type { PolicyAction, PolicyConditions } from '../../contract/wire/policy.ts';

export interface Policy {
  id: number;
  name: string;
  enabled: boolean;
  conditions: PolicyConditions;
  action: PolicyAction;
  scope: 'node' | 'workspace';
  dry_run: boolean;
  ttl_seconds: number;
  cooldown_seconds: number;
  max_rules: number;
  withdraw_grace_seconds: number;
}

export interface IncidentView {
  id: number;
  node_id: number;
  status: string;
  attack_family: string;
  severity: Severity;
  peak_pps: number | null;
  peak_bps: number | null;
  spoofing_detected: boolean | null;
  top_src_ips: { ip: string; count: number; normal?: boolean }[];
}

/** What the policy did before: the sources it dropped for this incident, and when it last fired on this node for another one. */
export interface History {
  sources: ReadonlySet<string>;
  lastFiredElsewhereMs?: number;
}

export type Decision =
  | { act: false; why: string }
  | { act: true; sources: { ip: string; sharePct: number }[]; why: string; skipped: { ip: string; why: string }[] };

const rank = (s: Severity) => SEVERITIES.indexOf(s);

/** Why the incident does not meet the conditions, or null when it does. */
export function unmet(c: PolicyConditions, inc: IncidentView): string | null {
  if (c.families && !c.families.includes(inc.attack_family as never))
    return `family ${inc.attack_family} is not ${c.families.join(' or ')}`;
  if (c.min_severity && rank(inc.severity) < rank(c.min_severity)) return `severity ${inc.severity} is under ${c.min_severity}`;
  if (c.min_pps !== undefined && (inc.peak_pps ?? 0) < c.min_pps) return `peak ${inc.peak_pps ?? 0} pps is under ${c.min_pps}`;
  if (c.min_bps !== undefined && (inc.peak_bps ?? 0) < c.min_bps) return `peak ${inc.peak_bps ?? 0} bps is under ${c.min_bps}`;
  if (c.node_ids && !c.node_ids.includes(inc.node_id)) return `node ${inc.node_id} is not one of the policy's`;
  return null;
}

export function decide(p: Policy, inc: IncidentView, h: History, nowMs: number): Decision {
  if (!p.enabled) return { act: false, why: 'disabled' };
  if (inc.status !== 'open') return { act: false, why: 'the incident is resolved' };
  const miss = unmet(p.conditions, inc);
  if (miss) return { act: false, why: miss };
  // The cooldown holds back a new incident of the node, never the one the policy is acting on.
  if (h.sources.size === 0 && h.lastFiredElsewhereMs !== undefined && nowMs - h.lastFiredElsewhereMs < p.cooldown_seconds * 1000)
    return { act: false, why: `cooling down (${p.cooldown_seconds} s after it acted on this node)` };
  const room = p.max_rules - h.sources.size;
  if (room <= 0) return { act: false, why: `its limit of ${p.max_rules} rules for this incident is reached` };
  const a = p.action;
  // One case per action type: a new type that is not handled here does not compile.
  switch (a.type) {
    case 'drop_top_sources': {
      if (inc.spoofing_detected) return { act: false, why: 'the sources are spoofed: dropping them would drop nobody' };
      const total = inc.top_src_ips.reduce((n, s) => n + s.count, 0);
      const sources: { ip: string; sharePct: number }[] = [];
      const skipped: { ip: string; why: string }[] = [];
      for (const s of [...inc.top_src_ips].sort((x, y) => y.count - x.count)) {
        if (h.sources.has(s.ip)) continue;
        const sharePct = total ? (100 * s.count) / total : 0;
        if (s.normal) skipped.push({ ip: s.ip, why: 'seen in normal traffic before the attack' });
        else if (sharePct < a.min_share_pct) skipped.push({ ip: s.ip, why: `${sharePct.toFixed(2)}% of the top sources' packets` });
        else if (sources.length < room) sources.push({ ip: s.ip, sharePct });
      }
      if (!sources.length) return { act: false, why: 'no new source to drop' };
      return { act: true, sources, skipped, why: `${inc.attack_family}/${inc.severity} at ${inc.peak_pps ?? 0} pps` };
    }
  }
}
