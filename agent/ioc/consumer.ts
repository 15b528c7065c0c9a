/**
 * The IOC consumer of packet samples: every sample meets the built-in
 * signatures and the workspace's patterns (matcher.ts), matches are counted
 * over the current incident (tally.ts), and each report of the incident
 * carries SPEC's `ioc_matches` (every indicator matched, with its count of
 * sampled packets) and `botnet_detected` (botnet.ts).
 *
 * The workspace's patterns arrive with each config poll (onConfig).
 */
import { MAX_LIST } from '../../contract/limits.ts';
import type { ConfigReply, IncidentReport } from '../../contract/wire/agent.ts';
import type { IocMatch, IocPattern } from '../../contract/wire/ioc.ts';
import type { DetectorEvent } from '../detect/index.ts';
import type { Logger } from '../log.ts';
import type { PacketSample, SampleConsumer } from '../packets/types.ts';
import { botnetDetected } from './botnet.ts';
import { Matcher } from './matcher.ts';
import { PatternIndex } from './patterns.ts';
import { IncidentTally } from './tally.ts';

export class IocConsumer implements SampleConsumer {
  private readonly matcher = new Matcher();
  private readonly tally = new IncidentTally();
  private incident: string | null = null;
  private patternsKey = '[]';

  constructor(private readonly log?: Logger) {}

  /** The workspace's patterns (GET /config `ioc_patterns`); compiled again only when they change. */
  setPatterns(patterns: readonly IocPattern[]): void {
    const key = JSON.stringify(patterns);
    if (key === this.patternsKey) return;
    this.patternsKey = key;
    const index = new PatternIndex(patterns);
    this.matcher.setPatterns(index);
    this.log?.info('workspace IOC patterns', { patterns: index.size, skipped: index.skipped.length });
    if (index.skipped.length) this.log?.warn('IOC patterns left out', { reasons: index.skipped.slice(0, 10) });
  }

  /** Each config poll's reply: its `ioc_patterns` (none when absent). */
  onConfig(config: Partial<ConfigReply>): void {
    this.setPatterns(config.ioc_patterns ?? []);
  }

  onSamples(batch: readonly PacketSample[]): void {
    for (const s of batch) this.tally.add(s.atMs, this.matcher.match(s));
  }

  onIncident(ev: DetectorEvent, key: string): void {
    if (ev.type === 'opened' || key !== this.incident) {
      this.incident = key;
      this.tally.start(ev.extension.started_at_ms);
    }
    if (ev.type === 'resolved') this.tally.end(ev.extension.ended_at_ms);
  }

  reportFields(): Pick<IncidentReport, 'ioc_matches' | 'botnet_detected'> {
    const matches: IocMatch[] = [...this.tally.counts]
      .filter(([, n]) => n > 0)
      .sort((a, b) => b[1] - a[1])
      .slice(0, MAX_LIST)
      .map(([i, count]) => ({
        attack_name: i.attack_name,
        attack_family: i.attack_family,
        count,
        source: i.source,
        ...(i.botnet !== undefined ? { botnet: i.botnet } : {}),
      }));
    return { ioc_matches: matches, botnet_detected: botnetDetected(this.tally.counts, this.tally.samples) };
  }
}
