// The lab's HTTP flood: h2load (Debian's nghttp2-client) in the attacker
// namespace opens many keep-alive connections to the victim's web server and
// sends requests on each at a bot's pace. h2load, like wrk and ab, connects
// from one address; source NAT in the attacker namespace gives each new
// connection a client address drawn at random from HTTP_CLIENTS (nftables'
// numgen over a map of the 254 addresses), so the victim sees 254 clients
// completing handshakes. `snat to <first>-<last>` would not spread them: the
// kernel picks a range's address by a hash of the original source and
// destination, the same one for every connection (measured: 1 address of 254).
// The NAT table exists only while the flood runs. Then a rule takes its place
// that discards what the attacker's address still sends to the web server:
// the tool ended by its timeout leaves orphaned connections that go on
// resending (their clients are dropped), and without NAT they would reach the
// victim from the attacker's own address; what the victim still sends to the
// clients is not for a local address any more and goes nowhere. The lab
// removes the namespace, and the rule, at the end.
import type { Attack } from './attacks.ts';
import { HTTP_CLIENTS, type Lab } from './topology.ts';
import { type Flow, watch } from './traffic.ts';

/** Requests a second on each connection: a bot's pace, not a benchmark's. */
const REQUESTS_PER_CONNECTION_SECOND = 3;
/**
 * Packets the victim receives per request on a keep-alive connection: the
 * request and the ACK of its answer, plus the handshakes and closes (about
 * 5%); measured in the lab.
 */
const PACKETS_PER_REQUEST = 2.3;
/** h2load's connection ramp step (its --rate-period). */
const RAMP_STEP_MS = 10;
const TABLE = 'bwhttp';
/**
 * nftables by its path: under npm and npx, node_modules/.bin comes first on
 * PATH, and there `nft` is @vercel/nft (a file tracer some package brings
 * along), which reads no rules and exits 0.
 */
const NFT = '/usr/sbin/nft';

export interface HttpFloodPlan {
  /** Connections, opened over one request period so that their requests interleave. */
  connections: number;
  connectionsPerStep: number;
  /** All requests of the flood: each connection's share, at REQUESTS_PER_CONNECTION_SECOND. */
  requests: number;
  requestsPerSecond: number;
}

/** How many connections and requests make about `pps` packets a second at the victim for `seconds`. */
export function httpFloodPlan(pps: number, seconds: number): HttpFloodPlan {
  const rate = REQUESTS_PER_CONNECTION_SECOND;
  const connections = Math.max(1, Math.round(pps / PACKETS_PER_REQUEST / rate));
  const steps = 1000 / rate / RAMP_STEP_MS;
  return {
    connections,
    connectionsPerStep: Math.max(1, Math.ceil(connections / steps)),
    requests: connections * Math.max(1, Math.round(rate * seconds)),
    requestsPerSecond: connections * rate,
  };
}

/**
 * The attacker namespace's table: during the flood, source NAT of the
 * attacker's connections to the victim's port 80 (a random client address
 * each); after it, a drop of the same packets.
 */
function table(lab: Lab, during: boolean): string {
  const [a, b, c] = HTTP_CLIENTS.split('.');
  const map = Array.from({ length: 254 }, (_, i) => `${i} : ${a}.${b}.${c}.${i + 1}`).join(', ');
  const flood = `ip saddr ${lab.attackerIp} ip daddr ${lab.victimIp} tcp dport 80`;
  const chain = during
    ? `type nat hook postrouting priority srcnat; policy accept;\n    ${flood} snat ip to numgen random mod 254 map { ${map} }`
    : `type filter hook output priority raw; policy accept;\n    ${flood} drop`;
  // Declaring, deleting and declaring again: one atomic load that replaces the table.
  return `table ip ${TABLE}\ndelete table ip ${TABLE}\ntable ip ${TABLE} {\n  chain out {\n    ${chain}\n  }\n}\n`;
}

function loadTable(lab: Lab, during: boolean): void {
  lab.exec(lab.attackerNs, [NFT, '-f', '-'], { input: table(lab, during), stdio: ['pipe', 'pipe', 'pipe'] });
}

export interface HttpFlow extends Flow {
  /** h2load's last lines of output (its summary once it ended by itself). */
  output(): string;
}

/**
 * About `pps` packets a second of HTTP requests for `seconds`: bounded in
 * connections and requests (h2load's -c and -n) and in time (`timeout`
 * ends it `seconds` + 0.3 s after its start, also when a drop rule stalls
 * its connections).
 */
export function httpFlood(lab: Lab, pps: number, seconds: number): HttpFlow {
  const plan = httpFloodPlan(pps, seconds);
  loadTable(lab, true);
  const child = lab.spawn(
    lab.attackerNs,
    [
      'timeout',
      String(seconds + 0.3),
      'h2load',
      '--h1',
      ...['-c', String(plan.connections), '-n', String(plan.requests)],
      ...['-r', String(plan.connectionsPerStep), '--rate-period', `${RAMP_STEP_MS}ms`],
      ...['--rps', String(REQUESTS_PER_CONNECTION_SECOND)],
      `http://${lab.victimIp}/`,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  child.stdout!.on('data', (d) => (out = (out + d).slice(-4000)));
  const flow = watch(child, 'h2load');
  const done = flow.done.finally(() => {
    try {
      loadTable(lab, false);
    } catch {
      /* the namespace is gone already */
    }
  });
  done.catch(() => {});
  return { done, stop: flow.stop, output: () => out };
}

export const HTTP_ATTACKS: readonly Attack[] = [
  {
    key: 'http',
    title: 'HTTP flood: keep-alive requests from 254 clients',
    family: 'http_flood',
    subtype: 'http',
    countries: ['BR'],
    tool: 'h2load',
    start: httpFlood,
    rule: { source: HTTP_CLIENTS, protocol: 'tcp' },
  },
];
