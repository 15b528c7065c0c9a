// drop_top_sources: a host rule for each of the incident's heaviest sources,
// never for a spoofed flood, and not before the agent has judged spoofing.
//
// The agent sends `spoofing_detected` in every report, but its `false` on the
// opening report is often only "not enough evidence yet": the opening holds
// the first ticks of the flood, whose talker window is too short for the
// spoofing rule's 1,000 sources (agent/detect/spoofing.ts). The agent re-sends
// the incident after its first full second (tuning firstUpdateMs, 1 s), and
// that report's verdict is the one to trust. So the opening report is acted
// on only when its verdict cannot change: spoofed already, or from fewer
// distinct sources than the spoofing rule ever looks at (a SYN flood from one
// host, reflection from 16 resolvers), so those are dropped at once.
import type { PolicyAction } from '../../contract/wire/policy.ts';
import type { History, IncidentView, Plan, PlannedRule } from './decide.ts';

/** The fewest distinct sources the agent's spoofing rule judges (SPOOF_RULE.minSources; a unit test holds them equal). */
export const SPOOF_MIN_SOURCES = 256;

/** Why the agent's spoofing verdict is not one to act on yet, or null when it is. */
export function spoofingUnjudged(inc: IncidentView): string | null {
  if (inc.spoofing_detected || inc.updated) return null;
  const n = inc.source_ip_count;
  if (n !== null && n < SPOOF_MIN_SOURCES) return null;
  return `spoofing not judged yet: the opening report${n === null ? '' : ` (${n} sources)`}; waiting for the agent's next`;
}

type Action = Extract<PolicyAction, { type: 'drop_top_sources' }>;

export function topSources(a: Action, inc: IncidentView, h: History, room: number): Plan {
  if (inc.spoofing_detected) return { act: false, why: 'the sources are spoofed: dropping them would drop nobody' };
  const unjudged = spoofingUnjudged(inc);
  if (unjudged) return { act: false, why: unjudged };
  const total = inc.top_src_ips.reduce((n, s) => n + s.count, 0);
  const rules: PlannedRule[] = [];
  const skipped: { source: string; why: string }[] = [];
  for (const s of [...inc.top_src_ips].sort((x, y) => y.count - x.count)) {
    if (h.sources.has(s.ip)) continue;
    const sharePct = total ? (100 * s.count) / total : 0;
    if (s.normal) skipped.push({ source: s.ip, why: 'seen in normal traffic before the attack' });
    else if (sharePct < a.min_share_pct) skipped.push({ source: s.ip, why: `${sharePct.toFixed(2)}% of the top sources' packets` });
    else if (rules.length < room)
      rules.push({
        source: s.ip,
        ...(a.protocol ? { protocol: a.protocol } : {}),
        key: s.ip,
        because: `${s.ip} sent ${sharePct.toFixed(1)}% of its top sources' packets`,
      });
  }
  if (!rules.length) return { act: false, why: 'no new source to drop' };
  return { act: true, rules, skipped };
}
