/**
 * The agent's countries (docs/geo.md): the database the `geoDatabase`
 * setting names, loaded once at start, and the consumer that counts the
 * incident's sources. No database (the setting is '' or off), or one that
 * cannot be read (logged), means no consumer: incidents then carry no
 * geo_breakdown, and everything else works as before.
 */
import type { ConsumerContext } from '../packets/consumers.ts';
import { ATTACK_PER_SEC } from '../packets/tap.ts';
import type { SampleConsumer } from '../packets/types.ts';
import { GeoConsumer } from './consumer.ts';
import { Countries, databaseDir } from './countries.ts';

/** Past the detection delay (the onset is up to about 3 s before the event) and the resolve hold. */
const MARGIN_MS = 5_000;

export function geoConsumers({ cfg, log }: ConsumerContext): SampleConsumer[] {
  try {
    const dir = databaseDir(cfg.geoDatabase);
    if (!dir) return [];
    const t0 = performance.now();
    const countries = Countries.load(dir);
    const { table } = countries;
    log.info('country database loaded', {
      database: dir,
      ipv4Ranges: table.ranges4,
      ipv6Ranges: table.ranges6,
      bytes: table.bytes,
      ms: Math.round(performance.now() - t0),
    });
    const holdBackMs = cfg.resolveHoldMs + MARGIN_MS;
    // Room for the most samples the kernel hands over in that time (its cap is twice the attack rate).
    return [new GeoConsumer(countries, { holdBackMs, capacity: Math.ceil((holdBackMs / 1000) * 2 * ATTACK_PER_SEC) })];
  } catch (e) {
    log.error('no countries: the country database cannot be read', { database: cfg.geoDatabase, error: (e as Error).message });
    return [];
  }
}

export { Countries, databaseDir, SHIPPED_DATABASE } from './countries.ts';
