// What a response policy does about one incident report: pure, so that the
// rules (conditions, cooldown, the limit of rules, what a spoofed flood
// gets) are tested without a database. Each action plans its rules in its
// own module (top-sources.ts, prefixes.ts); server/policy/respond.ts runs
// this for each report and makes the rules.
import { SEVERITIES, type Severity } from '../../contract/enums.ts';
import type { Protocol } from '../../contract/rule.ts';
import type { PolicyAction, PolicyConditions } from '../../contract/wire/policy.ts';
import { sourcePrefixes } from './prefixes.ts';
import { topSources } from './top-sources.ts';

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
  /** The incident's distinct sources (the agent's estimate), null when not reported. */
  source_ip_count: number | null;
  /** Reports after the opening one. */
  updates: number;
  /** The packets the agent's spoofing verdict rests on (its ttl_histogram's), null when it does not say. */
  packets?: number | null;
  top_src_ips: { ip: string; count: number; normal?: boolean }[];
  top_dst_ports: { port: number; count: number }[];
}

/** What the policy did before: the matches it acted on for this incident (rule keys), and when it last fired on this node for another one. */
export interface History {
  sources: ReadonlySet<string>;
  lastFiredElsewhereMs?: number;
}

/** A rule to make: its match, the key it is remembered by (History.sources), and why, for its reason. */
export interface PlannedRule {
  source: string;
  protocol?: Protocol;
  port?: number;
  key: string;
  because: string;
}

/** What an action plans for one report; decide() adds the incident's summary as the `why` of a plan that acts. */
export type Plan = { act: false; why: string } | { act: true; rules: PlannedRule[]; skipped: { source: string; why: string }[] };
export type Decision = { act: false; why: string } | (Extract<Plan, { act: true }> & { why: string });

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
  const plan = planOf(p.action, inc, h, room);
  if (!plan.act) return plan;
  // The incident in a few words, for each rule's reason: "syn_flood/high at 80000 pps".
  return { ...plan, why: `${inc.attack_family}/${inc.severity} at ${inc.peak_pps ?? 0} pps${inc.spoofing_detected ? ', spoofed' : ''}` };
}

function planOf(a: PolicyAction, inc: IncidentView, h: History, room: number): Plan {
  // One case per action type: a new type that is not handled here does not compile.
  switch (a.type) {
    case 'drop_top_sources':
      return topSources(a, inc, h, room);
    case 'drop_source_prefixes':
      return sourcePrefixes(a, inc, h, room);
  }
}
