/**
 * Local auto-mitigation (off unless switched on): during an incident, the
 * heaviest sources of the attack window (pickOffenders) get a drop rule with
 * a TTL, unless they carried normal traffic before the attack (the
 * detector's normal-source memory) or are protected (server, host, gateway,
 * allowlist). When the few of them cannot carry most of the attack (a
 * spoofed or widely spread flood, or one vector of several), only a source
 * that alone carries a fifth of the window is dropped.
 * For such a flood, two shapes are safe to drop from every source (the
 * allowlist still wins): UDP aimed at a destination port that no socket of
 * the host uses (closedPortSignature), since nothing there could be
 * legitimate; and an ICMP echo flood (echoSignature), by echo request and
 * reply only, so ping stops for the TTL but path-MTU discovery (ICMP
 * "fragmentation needed", ICMPv6 "packet too big"), the other errors and
 * IPv6 neighbour discovery go on.
 */
import { type CommandPolicy, checkSafety, type ProtectedEntry, parseCommand } from '../contract/commands/index.ts';
import { prefixOf } from '../contract/net/prefix.ts';
import { describeMatch, type RuleMatch } from '../contract/rule.ts';
import { pickOffenders, type SourceCount, type TrafficSample, windowPacketsOf } from './detect/index.ts';
import type { RuleTable } from './rules.ts';

export interface AutoMitigationOptions {
  ttlSeconds: number;
  /** Most sources dropped per incident. */
  maxPerIncident: number;
  maxRules: number;
  policy: CommandPolicy;
  /** Wall clock, ms (tests). */
  now?: () => number;
}

/** Rules that drop a flood's shape from every source. */
export interface Signature {
  name: string;
  rules: RuleMatch[];
}

const ANY4 = prefixOf('0.0.0.0/0'),
  ANY6 = prefixOf('::/0');
const EVERYWHERE = [ANY4, ANY6] as const;

/** Share of the window a source must carry alone to be dropped when the few heaviest do not cover the attack. */
export const HEAVY_SHARE = 0.2;

/**
 * The flood's signature when per-source drops cannot stop it: at least a
 * quarter of the window's packets are UDP (a multi-vector attack's UDP part
 * counts), 80% of those go to one destination port,
 * and no UDP socket of the host uses that port. Null otherwise, and when the
 * host's sockets cannot be read.
 */
export function closedPortSignature(s: TrafficSample, portsInUse: ReadonlySet<number> | null): Signature | null {
  if (!portsInUse) return null;
  const all = windowPacketsOf(s, 'all'),
    udp = windowPacketsOf(s, 'udp');
  let top: { port: number; count: number } | undefined;
  for (const p of s.topUdpDstPorts) if (!top || p.count > top.count) top = p;
  if (!top || udp <= 0 || udp < 0.25 * all || top.count < 0.8 * udp || portsInUse.has(top.port)) return null;
  const port = top.port;
  return { name: `udp:${port}`, rules: EVERYWHERE.map((source) => ({ source, protocol: 'udp' as const, port })) };
}

/** ICMP echo types: IPv4 request 8 and reply 0, ICMPv6 request 128 and reply 129. */
const ECHO = [
  [ANY4, 8],
  [ANY4, 0],
  [ANY6, 128],
  [ANY6, 129],
] as const;

/**
 * An ICMP flood: at least 80% of the tick's packets are ICMP. Its echo
 * requests and replies are dropped; the kernel counts ICMP by protocol only,
 * so a flood of other ICMP types is not stopped this way.
 */
export function echoSignature(s: TrafficSample): Signature | null {
  if (!(s.pps > 0) || s.protoPps.icmp < 0.8 * s.pps) return null;
  return { name: 'icmp:echo', rules: ECHO.map(([source, icmpType]) => ({ source, protocol: 'icmp' as const, icmpType })) };
}

export class AutoMitigation {
  /** Sources and signatures dropped in this incident, with their rules' expiry (wall ms). */
  private dropped = new Map<string, number>();
  private signatures = new Map<string, number>();
  private readonly now: () => number;

  constructor(private readonly o: AutoMitigationOptions) {
    this.now = o.now ?? Date.now;
  }

  /** A new incident: the per-incident budget starts again. */
  reset(): void {
    this.dropped = new Map();
    this.signatures = new Map();
  }

  /** True while the rule this incident added for `key` is in force (an expired one is added again). */
  private live(m: Map<string, number>, key: string): boolean {
    return (m.get(key) ?? 0) > this.now();
  }

  /** Adds a signature's rules, once per incident or again once they expired; returns what was added. */
  stepSignature(sig: Signature, table: RuleTable): string[] {
    if (this.live(this.signatures, sig.name)) return [];
    this.signatures.set(sig.name, this.now() + this.o.ttlSeconds * 1000);
    const added: string[] = [];
    for (const rule of sig.rules) {
      if (table.ruleCount >= this.o.maxRules) break;
      try {
        table.addRule({ ...rule, ttlSeconds: this.o.ttlSeconds });
        added.push(rule.icmpType !== undefined ? describeMatch(rule) : `${rule.source.cidr} ${sig.name}`);
      } catch {
        /* a full table: the per-source path reports it */
      }
    }
    return added;
  }

  /**
   * Picks and drops offenders of the current window: the sources newly
   * dropped, and whether a few sources carry the attack (`covered`; then no
   * signature is needed). `windowPackets`: all packets of the attack window.
   */
  step(
    top: readonly SourceCount[],
    windowPackets: number,
    normal: { has(ip: string): boolean },
    protect: readonly ProtectedEntry[],
    table: RuleTable,
  ): { added: string[]; covered: boolean } {
    const pick = pickOffenders(top, windowPackets, normal, { maxSources: this.o.maxPerIncident });
    const added: string[] = [];
    const chosen = pick.sufficient ? pick.sources : pick.sources.filter((s) => s.count >= HEAVY_SHARE * windowPackets);
    for (const s of chosen) {
      if (this.live(this.dropped, s.ip)) continue;
      const fresh = !this.dropped.has(s.ip);
      if ((fresh && this.dropped.size >= this.o.maxPerIncident) || table.ruleCount >= this.o.maxRules) break;
      const parsed = parseCommand({ action: 'drop', source: s.ip, ttl_seconds: this.o.ttlSeconds }, this.o.policy);
      if (!parsed.ok || !checkSafety(parsed.command, protect).ok) continue;
      try {
        table.addRule({ source: parsed.command.rule.source, ttlSeconds: this.o.ttlSeconds });
      } catch {
        continue;
      }
      this.dropped.set(s.ip, this.now() + this.o.ttlSeconds * 1000);
      added.push(s.ip);
    }
    // Covered only when every chosen source is dropped: a protected source or
    // a spent budget leaves the attack to the signatures.
    return { added, covered: pick.sufficient && chosen.every((s) => this.live(this.dropped, s.ip)) };
  }
}
