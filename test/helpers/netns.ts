// A two-namespace lab joined by one veth pair: attacker -> victim. Follows
// the project's safety rules: lab addresses from 198.18.0.0/15, a blackhole
// default route in each namespace (no reply to a spoofed source can leave),
// no traffic to eth0 or the root namespace, and teardown even after a crash.
import { execFileSync, type ExecFileSyncOptions } from 'node:child_process';

export interface Lab {
  victimNs: string;
  attackerNs: string;
  victimIf: string;
  attackerIf: string;
  victimIp: string;
  attackerIp: string;
  victimMac: string;
  /** Runs a command inside a namespace; returns stdout. */
  exec(ns: string, cmd: string[], opts?: ExecFileSyncOptions): string;
  destroy(): void;
}

function ip(args: string[]): string {
  return execFileSync('ip', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

function tryIp(args: string[]): void {
  try {
    ip(args);
  } catch {
    /* already gone */
  }
}

/** Removes every namespace a previous run of this prefix left behind. */
export function sweep(prefix: string): void {
  for (const line of ip(['netns', 'list']).split('\n')) {
    const name = line.split(' ')[0];
    if (name && name.startsWith(prefix)) tryIp(['netns', 'del', name]);
  }
}

/** id: a short tag (a-z0-9, at most 6) unique among labs running at once. */
export function createLab(id: string, subnet = 10): Lab {
  const victimNs = `bwv-${id}`, attackerNs = `bwa-${id}`;
  const victimIf = `bwv${id}`, attackerIf = `bwa${id}`;
  const victimIp = `198.18.${subnet}.1`, attackerIp = `198.18.${subnet}.2`;
  tryIp(['netns', 'del', victimNs]);
  tryIp(['netns', 'del', attackerNs]);
  const lab: Lab = {
    victimNs, attackerNs, victimIf, attackerIf, victimIp, attackerIp, victimMac: '',
    exec: (ns, cmd, opts) =>
      execFileSync('ip', ['netns', 'exec', ns, ...cmd], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], ...opts }) as string,
    destroy: () => {
      tryIp(['netns', 'del', victimNs]);
      tryIp(['netns', 'del', attackerNs]);
    },
  };
  try {
    ip(['netns', 'add', victimNs]);
    ip(['netns', 'add', attackerNs]);
    ip(['link', 'add', victimIf, 'netns', victimNs, 'type', 'veth', 'peer', 'name', attackerIf, 'netns', attackerNs]);
    for (const [ns, dev, addr] of [[victimNs, victimIf, victimIp], [attackerNs, attackerIf, attackerIp]] as const) {
      // No IPv6 on the lab link: router solicitations would move the counters.
      lab.exec(ns, ['sysctl', '-qw', `net.ipv6.conf.${dev}.disable_ipv6=1`]);
      lab.exec(ns, ['ip', 'addr', 'add', `${addr}/24`, 'dev', dev]);
      lab.exec(ns, ['ip', 'link', 'set', dev, 'up']);
      lab.exec(ns, ['ip', 'link', 'set', 'lo', 'up']);
      lab.exec(ns, ['ip', 'route', 'add', 'blackhole', 'default']);
    }
    const mac = (ns: string, dev: string) => JSON.parse(lab.exec(ns, ['ip', '-j', 'link', 'show', dev]))[0].address as string;
    lab.victimMac = mac(victimNs, victimIf);
    // Static neighbours: no ARP on the wire, so counters see only what a test sends.
    lab.exec(attackerNs, ['ip', 'neigh', 'replace', victimIp, 'lladdr', lab.victimMac, 'dev', attackerIf, 'nud', 'permanent']);
    lab.exec(victimNs, ['ip', 'neigh', 'replace', attackerIp, 'lladdr', mac(attackerNs, attackerIf), 'dev', victimIf, 'nud', 'permanent']);
  } catch (e) {
    lab.destroy();
    throw e;
  }
  return lab;
}

/** The victim's kernel count of UDP datagrams that reached the stack (delivered or no port). */
export function udpDelivered(lab: Lab): number {
  const snmp = lab.exec(lab.victimNs, ['cat', '/proc/net/snmp']).split('\n').filter((l) => l.startsWith('Udp:'));
  const names = snmp[0]!.split(/\s+/), values = snmp[1]!.split(/\s+/).map(Number);
  const at = (n: string) => values[names.indexOf(n)] ?? 0;
  return at('InDatagrams') + at('NoPorts') + at('InErrors');
}

/**
 * Sends `count` copies of a UDP packet from the attacker with trafgen (bounded
 * in packets and by a 20 s timeout). srcIp may differ from the attacker's own.
 */
export function sendUdp(lab: Lab, o: { count: number; srcIp?: string; dport?: number; sport?: number; payload?: number }): void {
  const conf = `{
    eth(da=${lab.victimMac}, type=0x0800),
    ipv4(saddr=${o.srcIp ?? lab.attackerIp}, daddr=${lab.victimIp}, ttl=64),
    udp(sp=${o.sport ?? 40000}, dp=${o.dport ?? 9}),
    fill(0x41, ${o.payload ?? 18})
  }`;
  lab.exec(lab.attackerNs, ['timeout', '20', 'trafgen', '--dev', lab.attackerIf, '--in', '-', '-n', String(o.count), '-P', '1', '-C', '--no-sock-mem'], {
    input: conf,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
}
