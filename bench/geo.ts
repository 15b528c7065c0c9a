// Countries at flood rates: the shipped database (agent/geo, docs/geo.md)
// loaded as the agent loads it, then lookups on one core (this process's one
// JavaScript thread) of random public addresses: IPv4 over the whole space,
// IPv6 in 2000::/3 (global unicast), as text through the contract's address
// parser (what the agent does with a sample's source) and as numbers (the
// table alone). Prints load time, memory and lookups per second.
// Usage: npm run bench:geo [-- --seconds 2]

import { Countries, databaseDir, SHIPPED_DATABASE } from '../agent/geo/index.ts';
import { formatAddress } from '../contract/net/address.ts';

const i = process.argv.indexOf('--seconds');
const SECONDS = i > 0 ? Number(process.argv[i + 1]) : 2;
const N = 65_536;

const mb = (b: number) => `${(b / 1e6).toFixed(1)} MB`;
const rss0 = process.memoryUsage().rss;
const cpu0 = process.cpuUsage(),
  t0 = performance.now();
const countries = Countries.load(databaseDir(SHIPPED_DATABASE)!);
const loadMs = performance.now() - t0,
  cpu = process.cpuUsage(cpu0);
const rss1 = process.memoryUsage().rss;
const { table } = countries;

// A fixed stream of pseudo-random addresses (xorshift32), the same on every run.
let x = 2463534242;
const rnd = () => {
  x ^= x << 13;
  x ^= x >>> 17;
  x ^= x << 5;
  return x >>> 0;
};
const words4 = Uint32Array.from({ length: N }, rnd);
const words6 = Uint32Array.from({ length: 4 * N }, (_, k) => (k % 4 === 0 ? (0x20000000 | (rnd() & 0x1fffffff)) >>> 0 : rnd()));
const bytes = (w: ArrayLike<number>, from: number, n: number) =>
  Array.from({ length: 4 * n }, (_, k) => (w[from + (k >> 2)]! >>> (24 - 8 * (k & 3))) & 255);
const text4 = Array.from({ length: N }, (_, k) => formatAddress(bytes(words4, k, 1)));
const text6 = Array.from({ length: N }, (_, k) => formatAddress(bytes(words6, 4 * k, 4)));

/** Lookups per second of `fn` over the N addresses, for SECONDS; and the share that found a country. */
function rate(fn: (k: number) => number): { perSec: number; found: number } {
  let n = 0,
    found = 0;
  const end = performance.now() + SECONDS * 1000;
  const t = performance.now();
  while (performance.now() < end) {
    for (let k = 0; k < N; k++) if (fn(k) !== 0) found++;
    n += N;
  }
  return { perSec: n / ((performance.now() - t) / 1000), found: found / n };
}

const rows: [string, ReturnType<typeof rate>][] = [
  ['IPv4, lookup(text)', rate((k) => countries.indexOf(text4[k]!))],
  ['IPv6, lookup(text)', rate((k) => countries.indexOf(text6[k]!))],
  ['IPv4, table.index4(number)', rate((k) => table.index4(words4[k]!))],
  ['IPv6, table.index6(words)', rate((k) => table.index6(words6[4 * k]!, words6[4 * k + 1]!, words6[4 * k + 2]!, words6[4 * k + 3]!))],
];

console.log(
  `database: ${SHIPPED_DATABASE}, ${table.ranges4.toLocaleString('en')} IPv4 and ${table.ranges6.toLocaleString('en')} IPv6 starts`,
);
console.log('');
console.log('| load | table | RSS before load | RSS after load |');
console.log('| --- | --- | --- | --- |');
const cpuMs = (cpu.user + cpu.system) / 1000;
console.log(`| ${loadMs.toFixed(0)} ms (CPU ${cpuMs.toFixed(0)} ms) | ${mb(table.bytes)} | ${mb(rss0)} | ${mb(rss1)} |`);
console.log('');
console.log('| lookups on one core | per second | ns each | found a country |');
console.log('| --- | --- | --- | --- |');
for (const [name, r] of rows) {
  console.log(`| ${name} | ${(r.perSec / 1e6).toFixed(2)} M | ${(1e9 / r.perSec).toFixed(0)} | ${(r.found * 100).toFixed(1)} % |`);
}
