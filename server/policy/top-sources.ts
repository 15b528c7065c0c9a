// drop_top_sources: a host rule for each of the incident's heaviest sources,
// never for a spoofed flood, and not before the agent has judged spoofing.
//
// The agent sends `spoofing_detected` in every report, but its `false` is
// often only "not enough evidence yet": an opening holds the first tens of ms
// of the flood, too few packets for the spoofing rule, which judges from
// 1,000 packets (agent/detect/spoofing.ts). The report's ttl_histogram says
// how many packets its verdict rests on: from 1,000 on the verdict is final
// (a random-source flood shows hundreds of sources by then; a SYN flood from
// one host or 16 resolvers do not), under that the policy waits for the
// agent's next report (200 ms, 1 s after the opening, then every 5 s). An
// agent that sends no ttl_histogram: its opening is acted on when its
// verdict cannot change (spoofed, or fewer distinct sources than the rule
// ever looks at), else from the report after it.
import type { PolicyAction } from '../../contract/wire/policy.ts';
import type { History, IncidentView, Plan, PlannedRule } from './decide.ts';

/** The fewest packets and distinct sources the agent's spoofing rule judges (SPOOF_RULE's; a unit test holds them equal). */
export const SPOOF_MIN_PACKETS = 1_000;
export const SPOOF_MIN_SOURCES = 256;

/** Why the agent's spoofing verdict is not one to act on yet, or null when it is. */
export function spoofingUnjudged(inc: IncidentView): string | null {
  if (inc.spoofing_detected) return null;
  if (typeof inc.packets === 'number')
    return inc.packets >= SPOOF_MIN_PACKETS
      ? null
      : `spoofing not judged yet: ${Math.round(inc.packets)} packets, the agent judges from ${SPOOF_MIN_PACKETS}; waiting for its next report`;
  if (inc.updated) return null;
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
