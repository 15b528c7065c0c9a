/**
 * What the host's network stack knows, read from /proc (no process started):
 * established TCP connections (conn_count), the host's own addresses and its
 * default gateways (protected from drop rules). For an interface in another
 * network namespace the files are read through a process living in that
 * namespace (/proc/PID/net/...), found by comparing namespace inodes; with no
 * such process the namespace's view is unavailable and callers get null.
 */
import fs from 'node:fs';
import os from 'node:os';

/** '/proc/net' (own namespace), '/proc/PID/net' for a named one, or null when none is reachable. */
export function procNetDir(netns?: string, cache: { pid?: string; missUntil?: number } = {}): string | null {
  if (!netns) return '/proc/net';
  if (cache.missUntil !== undefined && Date.now() < cache.missUntil) return null; // a /proc scan costs: not every second
  let ino: number;
  try {
    ino = fs.statSync(netns.includes('/') ? netns : `/var/run/netns/${netns}`).ino;
  } catch {
    return null;
  }
  const same = (pid: string) => {
    try {
      return fs.statSync(`/proc/${pid}/ns/net`).ino === ino;
    } catch {
      return false;
    }
  };
  if (cache.pid && same(cache.pid)) return `/proc/${cache.pid}/net`;
  for (const pid of fs.readdirSync('/proc')) {
    if (/^\d+$/.test(pid) && same(pid)) {
      cache.pid = pid;
      return `/proc/${pid}/net`;
    }
  }
  cache.missUntil = Date.now() + 30_000;
  return null;
}

function read(file: string): string | null {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return null;
  }
}

/** ESTABLISHED sockets (state 01) in tcp and tcp6 tables; null when neither table is readable. */
export function countEstablished(tcp: string | null, tcp6: string | null): number | null {
  if (tcp === null && tcp6 === null) return null;
  let n = 0;
  for (const text of [tcp, tcp6]) {
    if (!text) continue;
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f[3] === '01') n++;
    }
  }
  return n;
}

export function connCount(dir: string | null): number | null {
  if (!dir) return null;
  return countEstablished(read(`${dir}/tcp`), read(`${dir}/tcp6`));
}

/** Local ports of every UDP socket (bound, connected or listening) in the udp and udp6 tables; null when neither is readable. */
export function parseUdpPorts(udp: string | null, udp6: string | null): Set<number> | null {
  if (udp === null && udp6 === null) return null;
  const out = new Set<number>();
  for (const text of [udp, udp6]) {
    for (const line of (text ?? '').split('\n').slice(1)) {
      const local = line.trim().split(/\s+/)[1];
      const port = local ? parseInt(local.split(':')[1] ?? '', 16) : NaN;
      if (Number.isInteger(port)) out.add(port);
    }
  }
  return out;
}

export function udpPortsInUse(dir: string | null): Set<number> | null {
  return dir ? parseUdpPorts(read(`${dir}/udp`), read(`${dir}/udp6`)) : null;
}

/** Little-endian hex IPv4 of /proc/net/route to dotted text. */
function hexV4(h: string): string {
  const n = parseInt(h, 16);
  return [n & 255, (n >>> 8) & 255, (n >>> 16) & 255, (n >>> 24) & 255].join('.');
}

function hexV6(h: string): string {
  return (h.match(/.{4}/g) ?? []).map((g) => g.replace(/^0+(?=.)/, '')).join(':');
}

/** Default gateways from route (IPv4) and ipv6_route texts. */
export function parseGateways(route: string | null, ipv6Route: string | null): string[] {
  const out = new Set<string>();
  for (const line of (route ?? '').split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length > 7 && f[1] === '00000000' && f[2] && f[2] !== '00000000' && f[7] === '00000000') out.add(hexV4(f[2]));
  }
  for (const line of (ipv6Route ?? '').split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f.length >= 10 && /^0{32}$/.test(f[0] ?? '') && f[1] === '00' && f[4] && !/^0{32}$/.test(f[4])) out.add(hexV6(f[4]));
  }
  return [...out];
}

/** Local addresses from fib_trie (IPv4 "/32 host LOCAL") and if_inet6 texts. */
export function parseLocalAddresses(fibTrie: string | null, ifInet6: string | null): string[] {
  const out = new Set<string>();
  let last: string | null = null;
  for (const line of (fibTrie ?? '').split('\n')) {
    const m = /\|--\s+(\d+\.\d+\.\d+\.\d+)/.exec(line);
    if (m) last = m[1]!;
    else if (last && /\/32 host LOCAL/.test(line)) out.add(last);
  }
  for (const line of (ifInet6 ?? '').split('\n')) {
    const h = line.trim().split(/\s+/)[0];
    if (h && /^[0-9a-f]{32}$/.test(h)) out.add(hexV6(h));
  }
  return [...out];
}

export interface HostView {
  addresses: string[];
  gateways: string[];
  /** False when the namespace could not be read (no process in it): only the agent's own namespace was seen. */
  complete: boolean;
}

/**
 * Own addresses and gateways of the agent's namespace, plus those of `netns` when given; `cache` is
 * procNetDir's (the process found, or a miss that waits 30 s before the next /proc scan).
 */
export function hostView(netns?: string, cache?: { pid?: string; missUntil?: number }): HostView {
  const addresses = new Set<string>();
  for (const list of Object.values(os.networkInterfaces())) for (const a of list ?? []) addresses.add(a.address.replace(/%.*$/, ''));
  const gateways = new Set(parseGateways(read('/proc/net/route'), read('/proc/net/ipv6_route')));
  let complete = true;
  if (netns) {
    const dir = procNetDir(netns, cache);
    if (dir) {
      for (const a of parseLocalAddresses(read(`${dir}/fib_trie`), read(`${dir}/if_inet6`))) addresses.add(a);
      for (const g of parseGateways(read(`${dir}/route`), read(`${dir}/ipv6_route`))) gateways.add(g);
    } else {
      complete = false;
    }
  }
  return { addresses: [...addresses], gateways: [...gateways], complete };
}
