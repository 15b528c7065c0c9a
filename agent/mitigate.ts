/**
 * Local auto-mitigation (off unless switched on): during an incident, the
 * heaviest sources of the attack window (pickOffenders) get a drop rule with
 * a TTL, unless they carried normal traffic before the attack (the
 * detector's normal-source memory), are protected (server, host, gateway,
 * allowlist), or the few of them could not carry most of the attack (a
 * spoofed or widely spread flood, where per-source drops do not help).
 */
import { checkSafety, parseCommand, type CommandPolicy, type ProtectedEntry } from './commands/index.ts';
import { pickOffenders, type SourceCount } from './detect/index.ts';
import type { RuleTable } from './rules.ts';

export interface AutoMitigationOptions {
  ttlSeconds: number;
  /** Most sources dropped per incident. */
  maxPerIncident: number;
  maxRules: number;
  policy: CommandPolicy;
}

export class AutoMitigation {
  private dropped = new Set<string>();

  constructor(private readonly o: AutoMitigationOptions) {}

  /** A new incident: the per-incident budget starts again. */
  reset(): void {
    this.dropped = new Set();
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
