/**
 * The iptables-style command form of SPEC.md, parsed by a strict grammar and
 * never handed to a shell:
 *
 *   (iptables|ip6tables) [-t filter] (-I INPUT [N] | -A INPUT | -D INPUT)
 *     -s ADDR[/LEN] [-p tcp|udp|icmp [-m tcp|udp] [--dport PORT]] -j DROP|LOG   (LOG: log-only, extension)
 *
 * Options may come in any order, long names are accepted (--insert, --source,
 * --protocol, --destination-port, --jump, ...), each at most once. The full
 * list of what is refused, and why, is in docs/commands.md.
 */
import { checkedPort, checkedPrefix } from './policy.ts';
import { type CommandPolicy, type Family, type ParseResult, type Protocol, refuse } from './types.ts';

const SHELL = /[;&|`$<>(){}[\]*?~!#'"\\\n\r]/;
const ALLOWED = /^[A-Za-z0-9 ./:_-]*$/;

/** Option spellings -> canonical name. */
const OPTIONS: Record<string, string> = {
  '-t': '-t',
  '--table': '-t',
  '-I': '-I',
  '--insert': '-I',
  '-A': '-A',
  '--append': '-A',
  '-D': '-D',
  '--delete': '-D',
  '-s': '-s',
  '--source': '-s',
  '--src': '-s',
  '-p': '-p',
  '--protocol': '-p',
  '-m': '-m',
  '--match': '-m',
  '--dport': '--dport',
  '--destination-port': '--dport',
  '-j': '-j',
  '--jump': '-j',
};

const REFUSED_COMMANDS: Record<string, string> = {
  '-F': 'flushing a chain is refused',
  '--flush': 'flushing a chain is refused',
  '-P': 'changing a chain policy is refused',
  '--policy': 'changing a chain policy is refused',
  '-X': 'deleting chains is refused',
  '--delete-chain': 'deleting chains is refused',
  '-N': 'creating chains is refused',
  '--new-chain': 'creating chains is refused',
  '-R': 'replacing rules is refused',
  '--replace': 'replacing rules is refused',
  '-Z': 'zeroing counters is refused',
  '--zero': 'zeroing counters is refused',
  '-E': 'renaming chains is refused',
  '--rename-chain': 'renaming chains is refused',
};

const COMMANDS = new Set(['-I', '-A', '-D']);

export function parseIptables(line: string, policy: CommandPolicy): ParseResult {
  if (line.length > policy.maxLength) return refuse(`command longer than ${policy.maxLength} characters`);
  const meta = SHELL.exec(line);
  if (meta) return refuse(`shell metacharacter ${JSON.stringify(meta[0])} is refused: commands are parsed, never run by a shell`);
  if (!ALLOWED.test(line)) {
    const bad = [...line].find((c) => !ALLOWED.test(c)) ?? '?';
    return refuse(`unexpected character ${JSON.stringify(bad)}`);
  }
  const tokens = line.split(' ').filter((t) => t !== '');
  const program = tokens.shift();
  if (program !== 'iptables' && program !== 'ip6tables') {
    return refuse(`unknown program "${program ?? ''}": only iptables and ip6tables are understood`);
  }
  const family: Family = program === 'iptables' ? 4 : 6;

  const seen = new Map<string, string>();
  while (tokens.length > 0) {
    const tok = tokens.shift() as string;
    const refused = REFUSED_COMMANDS[tok];
    if (refused) return refuse(refused);
    const name = OPTIONS[tok];
    if (!name) return refuse(tok.startsWith('-') ? `unknown option ${tok}` : `unexpected argument "${tok}"`);
    const key = COMMANDS.has(name) ? 'command' : name;
    if (seen.has(key)) return refuse(key === 'command' ? 'more than one command (-I, -A, -D)' : `duplicated option ${name}`);
    const value = tokens.shift();
    if (value === undefined) return refuse(`option ${tok} needs a value`);
    if (COMMANDS.has(name)) {
      if (value !== 'INPUT') return refuse(`chain "${value}" is refused: only INPUT`);
      if (/^[0-9]+$/.test(tokens[0] ?? '')) {
        if (name !== '-I') return refuse(`rule numbers are refused with ${name}: give the rule itself`);
        tokens.shift(); // -I INPUT 1: the position means nothing to the XDP rule table
      }
      seen.set(key, name);
    } else {
      seen.set(key, value);
    }
  }
  return build(family, seen, policy);
}

function build(family: Family, o: Map<string, string>, policy: CommandPolicy): ParseResult {
  const table = o.get('-t');
  if (table !== undefined && table !== 'filter') return refuse(`table "${table}" is refused: only filter`);
  const cmd = o.get('command');
  if (!cmd) return refuse('missing command: -I INPUT, -A INPUT or -D INPUT');
  const target = o.get('-j');
  if (target === undefined) return refuse('missing target: -j DROP');
  // LOG: a log-only rule, which counts what it matches and drops nothing (a dry run of a drop).
  if (target !== 'DROP' && target !== 'LOG') return refuse(`target "${target}" is refused: only DROP or LOG`);
  const src = o.get('-s');
  if (src === undefined) return refuse('missing source: -s ADDRESS[/LENGTH]');
  const op = cmd === '-D' ? 'delete' : 'add';
  const pr = checkedPrefix(src, family, op, policy);
  if (!pr.ok) return pr;

  let protocol: Protocol | undefined;
  const p = o.get('-p');
  if (p !== undefined) {
    const names: Record<string, Protocol> =
      family === 4 ? { tcp: 'tcp', udp: 'udp', icmp: 'icmp' } : { tcp: 'tcp', udp: 'udp', 'ipv6-icmp': 'icmp', icmpv6: 'icmp' };
    protocol = names[p];
    if (!protocol) {
      const hint = family === 6 && p === 'icmp' ? ': ip6tables names it ipv6-icmp' : '';
      return refuse(`protocol "${p}" is refused${hint}; accepted: ${Object.keys(names).join(', ')}`);
    }
  }
  const m = o.get('-m');
  if (m !== undefined && (m !== p || (m !== 'tcp' && m !== 'udp'))) {
    return refuse(`match "-m ${m}" is refused: only -m tcp or -m udp, with the same -p`);
  }
  let port: number | undefined;
  const d = o.get('--dport');
  if (d !== undefined) {
    if (protocol !== 'tcp' && protocol !== 'udp') return refuse('--dport needs -p tcp or -p udp');
    const n = checkedPort(d);
    if (n === null) return refuse(`port "${d}" is not a number in 1..65535`);
    port = n;
  }
  const rule = {
    source: pr.prefix,
    ...(protocol ? { protocol } : {}),
    ...(port !== undefined ? { port } : {}),
    ...(op === 'add' ? { ttlSeconds: policy.defaultTtlSeconds } : {}),
    ...(op === 'add' && target === 'LOG' ? { mode: 'log' as const } : {}),
  };
  return { ok: true, command: { op, rule } };
}
