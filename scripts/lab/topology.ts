// The lab's network: a victim namespace and an attacker namespace joined by
// one veth pair. Follows the project's safety rules: addresses from
// 198.18.0.0/15, a blackhole default route in each namespace (no reply to a
// spoofed source can leave), no traffic to eth0 or the root namespace, and a
// teardown that kills what runs inside, removes the namespaces (and so the
// veth) and Breakwater's pins, also for what a crashed run left behind.
//
//   victim   bwv-ID  bwvID  198.18.S.1/24
//   attacker bwa-ID  bwaID  198.18.S.2/24 (attacker), 198.18.S.3/24 (legitimate client)
//   spoofed sources: 198.19.0.0/16 (inside the lab range, never routed anywhere)
//   HTTP flood clients: 198.19.80.0/24, source NAT of the attacker's
//     connections (attacks-http.ts); the victim routes them via 198.18.S.2
//     (a static neighbour), so it can answer them and they never leave the lab
import { type ChildProcess, type ExecFileSyncOptions, execFileSync, type SpawnOptions, spawn } from 'node:child_process';
import fs from 'node:fs';
import { until } from './wait.ts';

export interface Lab {
  id: string;
  victimNs: string;
  attackerNs: string;
  victimIf: string;
  attackerIf: string;
  victimIp: string;
  /** The attacker's own address. */
  attackerIp: string;
  /** A second address in the attacker namespace that only legitimate traffic uses. */
  clientIp: string;
  victimMac: string;
  /** The HTTP flood's client addresses (routed back to the attacker namespace). */
  httpClients: string;
  /** Runs a command inside a namespace; returns stdout. */
  exec(ns: string, cmd: string[], opts?: ExecFileSyncOptions): string;
  /** Starts a long-running command inside a namespace. */
  spawn(ns: string, cmd: string[], opts?: SpawnOptions): ChildProcess;
  destroy(): void;
}

/** The HTTP flood's clients: one prefix for every lab, so an attack's drop rule can name it. */
export const HTTP_CLIENTS = '198.19.80.0/24';

/** Breakwater's pins for interfaces of a namespace (native/program.cc's layout). */
export const PIN_ROOT = '/sys/fs/bpf/breakwater';

function ip(args: string[]): string {
  return execFileSync('ip', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

function tryIp(args: string[]): string {
  try {
    return ip(args);
  } catch {
    return ''; /* already gone */
  }
}

/** Kills every process inside the namespace, deletes it and the pins of its interfaces. */
export function removeNamespace(ns: string): void {
  for (const pid of tryIp(['netns', 'pids', ns]).split('\n').filter(Boolean)) {
    try {
      process.kill(Number(pid), 'SIGKILL');
    } catch {
      /* exited meanwhile */
    }
  }
  tryIp(['netns', 'del', ns]);
  fs.rmSync(`${PIN_ROOT}/netns-${ns}`, { recursive: true, force: true });
}

/** Removes every namespace whose name starts with one of the prefixes (a crashed run's leftovers). */
export function sweep(...prefixes: string[]): string[] {
  const gone: string[] = [];
  for (const line of tryIp(['netns', 'list']).split('\n')) {
    const name = line.split(' ')[0];
    if (name && prefixes.some((p) => name.startsWith(p))) {
      removeNamespace(name);
      gone.push(name);
    }
  }
  return gone;
}

/** The first process living in namespace `ns` (it may take a moment to start). */
export async function firstPidIn(ns: string, ms = 5_000): Promise<number> {
  const ino = fs.statSync(`/var/run/netns/${ns}`).ino;
  const inNs = (p: string) => {
    try {
      return /^\d+$/.test(p) && fs.statSync(`/proc/${p}/ns/net`).ino === ino;
    } catch {
      return false; /* gone */
    }
  };
  const pid = await until(() => fs.readdirSync('/proc').find(inNs), ms, 50);
  if (pid === undefined) throw new Error(`no process started in namespace ${ns}`);
  return Number(pid);
}

/** id: a short tag (a-z0-9, at most 6) unique among labs running at once; subnet: S in 198.18.S.0/24. */
export function createLab(id: string, subnet = 10): Lab {
  if (!/^[a-z0-9]{1,6}$/.test(id)) throw new Error(`lab id '${id}' must be 1 to 6 of a-z0-9`);
  if (!Number.isInteger(subnet) || subnet < 0 || subnet > 255) throw new Error(`lab subnet ${subnet} must be 0 to 255`);
  const victimNs = `bwv-${id}`,
    attackerNs = `bwa-${id}`;
  const victimIf = `bwv${id}`,
    attackerIf = `bwa${id}`;
  const victimIp = `198.18.${subnet}.1`,
    attackerIp = `198.18.${subnet}.2`,
    clientIp = `198.18.${subnet}.3`;
  removeNamespace(victimNs);
  removeNamespace(attackerNs);
  const inNs = (ns: string, cmd: string[]) => ['netns', 'exec', ns, ...cmd];
  const lab: Lab = {
    id,
    victimNs,
    attackerNs,
    victimIf,
    attackerIf,
    victimIp,
    attackerIp,
    clientIp,
    victimMac: '',
    httpClients: HTTP_CLIENTS,
    exec: (ns, cmd, opts) => execFileSync('ip', inNs(ns, cmd), { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], ...opts }) as string,
    spawn: (ns, cmd, opts) => spawn('ip', inNs(ns, cmd), { stdio: ['ignore', 'ignore', 'pipe'], ...opts }),
    destroy: () => {
      removeNamespace(victimNs);
      removeNamespace(attackerNs);
    },
  };
  try {
    ip(['netns', 'add', victimNs]);
    ip(['netns', 'add', attackerNs]);
    ip(['link', 'add', victimIf, 'netns', victimNs, 'type', 'veth', 'peer', 'name', attackerIf, 'netns', attackerNs]);
    for (const [ns, dev, addrs] of [
      [victimNs, victimIf, [victimIp]],
      [attackerNs, attackerIf, [attackerIp, clientIp]],
    ] as const) {
      // No IPv6 on the lab link: router solicitations would move the counters.
      lab.exec(ns, ['sysctl', '-qw', `net.ipv6.conf.${dev}.disable_ipv6=1`]);
      for (const a of addrs) lab.exec(ns, ['ip', 'addr', 'add', `${a}/24`, 'dev', dev]);
      lab.exec(ns, ['ip', 'link', 'set', dev, 'up']);
      lab.exec(ns, ['ip', 'link', 'set', 'lo', 'up']);
      lab.exec(ns, ['ip', 'route', 'add', 'blackhole', 'default']);
    }
    const mac = (ns: string, dev: string) => JSON.parse(lab.exec(ns, ['ip', '-j', 'link', 'show', dev]))[0].address as string;
    lab.victimMac = mac(victimNs, victimIf);
    const attackerMac = mac(attackerNs, attackerIf);
    // Static neighbours: no ARP on the wire, so counters see only what is sent.
    lab.exec(attackerNs, ['ip', 'neigh', 'replace', victimIp, 'lladdr', lab.victimMac, 'dev', attackerIf, 'nud', 'permanent']);
    for (const a of [attackerIp, clientIp])
      lab.exec(victimNs, ['ip', 'neigh', 'replace', a, 'lladdr', attackerMac, 'dev', victimIf, 'nud', 'permanent']);
    // The HTTP flood's clients sit behind the attacker's address, a static
    // neighbour: the victim answers them over the veth, never with ARP, and
    // the rest of 198.19.0.0/16 still meets the blackhole.
    lab.exec(victimNs, ['ip', 'route', 'add', HTTP_CLIENTS, 'via', attackerIp, 'dev', victimIf]);
  } catch (e) {
    lab.destroy();
    throw e;
  }
  return lab;
}
