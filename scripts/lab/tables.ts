// The demo's tables: a plain Markdown table, and what hit the victim in each
// incident as the server holds it (GET /api/v1/incidents/:id): the sub-type,
// the distinct sources, the countries of the sampled sources (the lab's test
// database), the signatures and workspace patterns matched, the botnet, and
// the rules the server's response policy made for it.
import type { LabRun } from './index.ts';
import type { AttackResult } from './scenario.ts';

export function markdownTable(head: readonly string[], rows: readonly string[][]): string {
  const w = head.map((h, c) => Math.max(h.length, ...rows.map((row) => row[c]!.length)));
  const line = (cells: readonly string[]) => `| ${cells.map((x, c) => x.padEnd(w[c]!)).join(' | ')} |`;
  return [line(head), `|${w.map((n) => '-'.repeat(n + 2)).join('|')}|`, ...rows.map(line)].join('\n');
}

/** Country shares of the sampled packets, largest first: "BR 49%, JP 48%, DE 2%". */
function countries(geo: Record<string, number> | undefined, spoofed: boolean): string {
  const entries = Object.entries(geo ?? {}).sort((a, b) => b[1] - a[1]);
  const total = entries.reduce((n, [, v]) => n + v, 0);
  if (!total) return '-';
  const shown = entries.slice(0, 3).map(([c, v]) => `${c} ${Math.round((100 * v) / total)}%`);
  return `${shown.join(', ')}${entries.length > 3 ? ', ...' : ''}${spoofed ? ' (spoofed)' : ''}`;
}

export async function forensicsTable(run: LabRun, results: readonly AttackResult[]): Promise<string> {
  const rows: string[][] = [];
  const rules = ((await run.user('GET', '/mitigations?limit=500')).body?.rules ?? []) as { incident_id: number | null; origin: string }[];
  for (const r of results) {
    if (r.incidentId === undefined) continue;
    const inc = (await run.user('GET', `/incidents/${r.incidentId}`)).body ?? {};
    const d = inc.details ?? {};
    const matches = ((d.ioc_matches ?? []) as { attack_name: string; count: number; source: string }[])
      .map((m) => `${m.attack_name} x${m.count.toLocaleString('en')}${m.source === 'workspace' ? ' (workspace)' : ''}`)
      .join(', ');
    const named = (d.ioc_matches ?? []).find((m: { botnet?: string }) => m.botnet)?.botnet;
    const byPolicy = rules.filter((x) => x.incident_id === r.incidentId && x.origin === 'policy').length;
    rows.push([
      r.attack,
      d.attack_subtype ?? '-',
      inc.source_ip_count === undefined || inc.source_ip_count === null ? '-' : Number(inc.source_ip_count).toLocaleString('en'),
      countries(d.geo_breakdown, inc.spoofing_detected === true),
      matches || '-',
      inc.botnet_detected ? `yes${named ? ` (${named})` : ''}` : 'no',
      byPolicy ? String(byPolicy) : inc.spoofing_detected ? '- (spoofed)' : '-',
    ]);
  }
  return markdownTable(
    ['attack', 'sub-type', 'sources', 'countries (sampled packets)', 'signatures matched', 'botnet', 'policy rules'],
    rows,
  );
}
