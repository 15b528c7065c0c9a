// drop_top_sources: a host rule for each of the incident's heaviest sources,
// never for a spoofed flood, and not before the agent has judged spoofing.
//
// The agent sends `spoofing_detected` in every report, but its `false` is
// often only "not enough evidence yet": an opening holds the first tens of ms
// of the flood, too few packets for the spoofing rule, which judges from
// 1,000 packets and, for two of its tests, 1,000 sources in a talker window
// (agent/detect/spoofing.ts). The report's ttl_histogram says how many
// packets the verdict rests on, and the agent reports 200 ms and 1 s after
// the opening, then every 5 s. A false verdict is acted on once it can no
// longer change:
//   - fewer than 256 sources in at least 512 packets: a flood from random
//     sources would show about one source a packet (a SYN flood from one
//     host, 16 resolvers, 254 HTTP clients are real sources);
//   - or the report of the first full second (the second update) with
//     1,000 packets behind it, or any report after that.
// An agent that sends no ttl_histogram: its opening is acted on when its
// verdict cannot change (fewer distinct sources than the rule ever looks
// at), else from the report after it.
import type { PolicyAction } from '../../contract/wire/policy.ts';
import type { History, IncidentView, Plan, PlannedRule } from './decide.ts';

/** The fewest packets and distinct sources the agent's spoofing rule judges (SPOOF_RULE's; a unit test holds them equal). */
export const SPOOF_MIN_PACKETS = 1_000;
export const SPOOF_MIN_SOURCES = 256;

/** Why the agent's spoofing verdict is not one to act on yet, or null when it is. */
export function spoofingUnjudged(inc: IncidentView): string | null {
  if (inc.spoofing_detected) return null;
  const n = inc.source_ip_count;
  if (typeof inc.packets === 'number') {
    if (n !== null && n < SPOOF_MIN_SOURCES && inc.packets >= 2 * SPOOF_MIN_SOURCES) return null;
    if ((inc.updates >= 2 && inc.packets >= SPOOF_MIN_PACKETS) || inc.updates >= 3) return null;
    return `spoofing not judged yet: ${Math.round(inc.packets)} packets from ${n ?? 'unknown'} sources; waiting for the agent's report of its first full second`;
  }
  if (inc.updates > 0) return null;
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
