// drop_source_prefixes: the incident's top sources (those the agent marked
// normal left out) grouped into covering prefixes of the policy's length; a
// prefix holding at least min_sources of them is dropped. That is what a
// spoofed flood drawn from a concentrated range and a reflection from one
// subnet of reflectors need, spoofed or not: the sources are forged or real,
// the range they come from is where the flood comes from. A prefix that
// covers a source seen in normal traffic before the attack is left alone
// (it would drop that client too). With dominant_port, only the one
// destination port that carries DOMINANT_PORT_SHARE of the incident's top
// ports is dropped (the kernel matches destination ports, not the
// reflectors' source port), so the range keeps reaching the host's other
// services; without such a port the policy does not act.
import { parsePrefix } from '../../contract/net/prefix.ts';
import type { PolicyAction } from '../../contract/wire/policy.ts';
import type { History, IncidentView, Plan, PlannedRule } from './decide.ts';

export const DOMINANT_PORT_SHARE = 0.8;

type Action = Extract<PolicyAction, { type: 'drop_source_prefixes' }>;

interface Group {
  cidr: string;
  sources: number;
  packets: number;
  normal: string[];
}

/** The destination port carrying at least DOMINANT_PORT_SHARE of top_dst_ports' packets, with its share, or null. */
export function dominantPort(ports: IncidentView['top_dst_ports']): { port: number; sharePct: number } | null {
  const total = ports.reduce((n, p) => n + p.count, 0);
  const top = [...ports].sort((x, y) => y.count - x.count)[0];
  if (!top || top.port === 0 || total === 0 || top.count < DOMINANT_PORT_SHARE * total) return null;
  return { port: top.port, sharePct: (100 * top.count) / total };
}

/** The top sources by covering prefix, most sources first (then most packets). */
export function groupSources(a: Action, top: IncidentView['top_src_ips']): Group[] {
  const groups = new Map<string, Group>();
  for (const s of top) {
    const host = parsePrefix(s.ip);
    if (!host.ok) continue;
    const net = parsePrefix(`${host.prefix.address}/${host.prefix.family === 4 ? a.prefix_length_v4 : a.prefix_length_v6}`, true);
    if (!net.ok) continue;
    const g = groups.get(net.prefix.cidr) ?? { cidr: net.prefix.cidr, sources: 0, packets: 0, normal: [] };
    if (s.normal) g.normal.push(s.ip);
    else {
      g.sources++;
      g.packets += s.count;
    }
    groups.set(g.cidr, g);
  }
  return [...groups.values()].sort((x, y) => y.sources - x.sources || y.packets - x.packets);
}

export function sourcePrefixes(a: Action, inc: IncidentView, h: History, room: number): Plan {
  const port = a.dominant_port ? dominantPort(inc.top_dst_ports) : null;
  if (a.dominant_port && !port)
    return { act: false, why: `no destination port carries ${100 * DOMINANT_PORT_SHARE}% of the incident's top ports' packets` };
  const total = inc.top_src_ips.reduce((n, s) => n + (s.normal ? 0 : s.count), 0);
  const rules: PlannedRule[] = [];
  const skipped: { source: string; why: string }[] = [];
  for (const g of groupSources(a, inc.top_src_ips)) {
    const key = port ? `${g.cidr} port ${port.port}` : g.cidr;
    if (h.sources.has(key) || g.sources === 0) continue;
    const holds = `${g.cidr} holds ${g.sources} of the top sources`;
    if (g.normal.length) skipped.push({ source: g.cidr, why: `covers ${g.normal.join(', ')}, seen in normal traffic before the attack` });
    else if (g.sources < a.min_sources) skipped.push({ source: g.cidr, why: `${holds}, fewer than ${a.min_sources}` });
    else if (rules.length < room) {
      const packets = total ? ((100 * g.packets) / total).toFixed(1) : '0.0';
      const to = port ? `, to port ${port.port} (${port.sharePct.toFixed(1)}% of the top destination ports' packets)` : '';
      rules.push({
        source: g.cidr,
        ...(a.protocol ? { protocol: a.protocol } : {}),
        ...(port ? { port: port.port } : {}),
        key,
        because: `${holds} (${packets}% of their packets)${to}`,
      });
    }
  }
  if (!rules.length) return { act: false, why: `no new prefix holds ${a.min_sources} of the top sources` };
  return { act: true, rules, skipped };
}
