// What an incident at the server says about its attack, as the end-to-end
// test checks it: the sub-type, the countries of the lab's test database,
// the IOC matches (built-in signatures and the lab workspace's own pattern)
// and botnet_detected, each against what the lab's attack declares.
import fs from 'node:fs';
import path from 'node:path';
import type { ExecutionContext } from 'ava';
import { type Attack, LAB_IOC_PATTERNS } from '../../scripts/lab/index.ts';

const GEO = path.join(import.meta.dirname, '../fixtures/geo');

/** Every country of the lab's test database (its text files, one range a line: from,to,CC). */
export const LAB_COUNTRIES: ReadonlySet<string> = new Set(
  ['lab-country-ipv4.csv', 'lab-country-ipv6.csv'].flatMap((f) =>
    fs
      .readFileSync(path.join(GEO, f), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => l.split(',')[2]!),
  ),
);

export function checkForensics(t: ExecutionContext, attack: Attack, inc: any): void {
  const d = inc.details ?? {};
  const k = attack.key;
  t.log(
    `${k} forensics: ${d.attack_subtype}; geo ${JSON.stringify(d.geo_breakdown)} of ${d.sampled_packets} sampled (spoofed ${d.geo_spoofed}); ` +
      `ioc ${JSON.stringify(d.ioc_matches)}; botnet ${inc.botnet_detected}; ${inc.source_ip_count} sources`,
  );
  // The family of every report, from the opening to the resolve: it never changes mid-incident, but for
  // one step: a multi-vector flood may open on its first vector (an opening can judge 30 ms of flood, and
  // the lab's two generators start a few ms apart) and turn multi_vector, for good, once the second joins.
  const families = (inc.timeline ?? []).filter((e: any) => e.data?.attack_family).map((e: any) => e.data.attack_family as string);
  const distinct = [...new Set(families)];
  const joined =
    attack.family === 'multi_vector' && distinct.length === 2 && distinct[1] === 'multi_vector' && families.at(-1) === 'multi_vector';
  t.true((distinct.length === 1 && distinct[0] === attack.family) || joined, `${k}: the family of every report (${families.join(', ')})`);
  t.is(inc.attack_family, attack.family, `${k}: the family at the resolve`);
  // A multi-vector's vectors in any order: they are joined by share, and the lab's halves are even.
  const vectors = (st?: string) => st?.split('+').sort().join('+');
  if (attack.subtype !== undefined) t.is(vectors(d.attack_subtype), vectors(attack.subtype), `${k}: sub-type`);

  const geo: Record<string, number> = d.geo_breakdown ?? {};
  const total = Object.values(geo).reduce((a, b) => a + b, 0);
  t.true(total > 0, `${k}: a non-empty geo_breakdown`);
  t.deepEqual(
    Object.keys(geo).filter((c) => !LAB_COUNTRIES.has(c)),
    [],
    `${k}: only the test database's countries`,
  );
  for (const c of attack.countries) t.true((geo[c] ?? 0) > 0, `${k}: the flood's country ${c}`);
  const flood = attack.countries.reduce((n, c) => n + (geo[c] ?? 0), 0);
  t.true(flood >= total * 0.8, `${k}: the flood's countries hold ${flood} of ${total} sampled packets`);
  t.is(d.geo_spoofed, inc.spoofing_detected, `${k}: geo_spoofed says whether the sources are forged`);

  const matches: any[] = d.ioc_matches ?? [];
  t.deepEqual(matches.map((m) => m.attack_name).sort(), [...(attack.ioc ?? [])].sort(), `${k}: ioc_matches`);
  const workspace = new Set<string>(LAB_IOC_PATTERNS.map((p) => p.attack_name));
  for (const m of matches) {
    t.true(m.count > 0, `${k}: ${m.attack_name} counted`);
    t.is(m.source, workspace.has(m.attack_name) ? 'workspace' : 'builtin', `${k}: ${m.attack_name}'s source`);
  }
  t.is(inc.botnet_detected, attack.botnet ?? false, `${k}: botnet_detected`);
  if (attack.botnet)
    t.true(
      matches.some((m) => m.botnet),
      `${k}: the botnet named`,
    );
}
