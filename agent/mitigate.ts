/**
 * Local auto-mitigation (off unless switched on): during an incident, the
 * heaviest sources of the attack window (pickOffenders) get a drop rule with
 * a TTL, unless they carried normal traffic before the attack (the
 * detector's normal-source memory), are protected (server, host, gateway,
 * allowlist), or the few of them could not carry most of the attack (a
 * spoofed or widely spread flood, where per-source drops do not help).
 * For such a flood, one more shape is safe: UDP aimed at a destination port
 * that no socket of the host uses (closedPortSignature) is dropped from every
 * source, since nothing there could be legitimate; the allowlist still wins.
 */
import { checkSafety, parseCommand, type CommandPolicy, type ProtectedEntry } from './commands/index.ts';
import { pickOffenders, windowPacketsOf, type SourceCount, type TrafficSample } from './detect/index.ts';
import type { RuleTable } from './rules.ts';

export interface AutoMitigationOptions {
  ttlSeconds: number;
  /** Most sources dropped per incident. */
  maxPerIncident: number;
  maxRules: number;
  policy: CommandPolicy;
}

export interface Signature { protocol: 'udp'; port: number }

/**
 * The flood's signature when per-source drops cannot stop it: at least half
 * of the window's packets are UDP, 80% of those go to one destination port,
 * and no UDP socket of the host uses that port. Null otherwise, and when the
 * host's sockets cannot be read.
 */
export function closedPortSignature(s: TrafficSample, portsInUse: ReadonlySet<number> | null): Signature | null {
  if (!portsInUse) return null;
  const all = windowPacketsOf(s, 'all'), udp = windowPacketsOf(s, 'udp');
  let top: { port: number; count: number } | undefined;
  for (const p of s.topUdpDstPorts) if (!top || p.count > top.count) top = p;
  if (!top || udp <= 0 || udp < 0.5 * all || top.count < 0.8 * udp || portsInUse.has(top.port)) return null;
  return { protocol: 'udp', port: top.port };
}

export class AutoMitigation {
  private dropped = new Set<string>();
  private signatures = new Set<string>();

  constructor(private readonly o: AutoMitigationOptions) {}

  /** A new incident: the per-incident budget starts again. */
  reset(): void {
    this.dropped = new Set();
    this.signatures = new Set();
  }

  /** Drops a signature from every source (IPv4 and IPv6) once per incident; returns what was added. */
  stepSignature(sig: Signature, table: RuleTable): string[] {
    const key = `${sig.protocol}:${sig.port}`;
    if (this.signatures.has(key)) return [];
    this.signatures.add(key);
    const added: string[] = [];
    for (const source of ['0.0.0.0/0', '::/0']) {
      if (table.ruleCount >= this.o.maxRules) break;
      try {
        table.addRule({ source, protocol: sig.protocol, port: sig.port, ttlSeconds: this.o.ttlSeconds });
        added.push(`${source} ${key}`);
      } catch {
        /* a full table: the per-source path reports it */
      }
    }
    return added;
  }

  /**
   * Picks and drops offenders of the current window; returns the sources
   * newly dropped. `windowPackets`: all packets of the attack window.
   */
  step(top: readonly SourceCount[], windowPackets: number, normal: { has(ip: string): boolean },
    protect: readonly ProtectedEntry[], table: RuleTable): string[] {
    const left = this.o.maxPerIncident - this.dropped.size;
    if (left <= 0) return [];
    const pick = pickOffenders(top, windowPackets, normal, { maxSources: this.o.maxPerIncident });
    if (!pick.sufficient) return [];
    const added: string[] = [];
    for (const s of pick.sources) {
      if (added.length >= left || table.ruleCount >= this.o.maxRules) break;
      if (this.dropped.has(s.ip)) continue;
      const parsed = parseCommand({ action: 'drop', source: s.ip, ttl_seconds: this.o.ttlSeconds }, this.o.policy);
      if (!parsed.ok || !checkSafety(parsed.rule, protect).ok) continue;
      try {
        table.addRule({ source: parsed.rule.prefix.cidr, ttlSeconds: this.o.ttlSeconds });
      } catch {
        continue;
      }
      this.dropped.add(s.ip);
      added.push(s.ip);
    }
    return added;
  }
}
