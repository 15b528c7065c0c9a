/**
 * The structured command form (our extension to SPEC's pending commands):
 *
 *   { "action": "drop" | "log" | "delete", "source": "ADDR[/LEN]",   (log: log-only)
 *     "protocol"?: "tcp" | "udp" | "icmp", "port"?: 1..65535, "ttl_seconds"?: N }
 *
 * Every key is checked; unknown keys, wrong types, a port without tcp/udp
 * and a TTL above the policy maximum are refused, never coerced.
 */
import { PROTOCOLS } from '../rule.ts';
import { checkedPrefix, checkedTtl } from './policy.ts';
import { type CommandPolicy, type ParseResult, type Protocol, refuse } from './types.ts';

const KEYS = new Set(['action', 'source', 'protocol', 'port', 'ttl_seconds']);

export function parseStructured(input: unknown, policy: CommandPolicy): ParseResult {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    return refuse('a structured command must be a JSON object');
  }
  const o = input as Record<string, unknown>;
  for (const k of Object.keys(o)) {
    if (!KEYS.has(k)) return refuse(`unknown key "${k}"; accepted: ${[...KEYS].join(', ')}`);
  }
  const { action, source, protocol, port, ttl_seconds: ttl } = o;
  if (action !== 'drop' && action !== 'log' && action !== 'delete') return refuse('action must be "drop", "log" or "delete"');
  if (typeof source !== 'string') return refuse('source must be an address or prefix string');
  const op = action === 'delete' ? 'delete' : 'add';
  const pr = checkedPrefix(source, null, op, policy);
  if (!pr.ok) return pr;

  if (protocol !== undefined && !PROTOCOLS.includes(protocol as Protocol)) {
    return refuse('protocol must be "tcp", "udp" or "icmp"');
  }
  if (port !== undefined) {
    if (protocol !== 'tcp' && protocol !== 'udp') return refuse('port needs protocol "tcp" or "udp"');
    if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65_535) {
      return refuse('port must be an integer in 1..65535');
    }
  }
  let ttlSeconds: number | undefined;
  if (op === 'add') {
    const t = checkedTtl(ttl, policy);
    if (!t.ok) return t;
    ttlSeconds = t.ttl;
  } else if (ttl !== undefined) {
    return refuse('ttl_seconds means nothing for a delete');
  }
  const rule = {
    source: pr.prefix,
    ...(protocol !== undefined ? { protocol: protocol as Protocol } : {}),
    ...(port !== undefined ? { port: port as number } : {}),
    ...(ttlSeconds !== undefined ? { ttlSeconds } : {}),
    ...(action === 'log' ? { mode: 'log' as const } : {}),
  };
  return { ok: true, command: { op, rule } };
}
