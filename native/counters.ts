// The names of the kernel's per-CPU counters, in bpf/breakwater.h's order
// (BW_COUNTER_LIST). Pure: no addon load, so unit tests can build snapshots.
// native/binding.ts checks at load that the addon reports exactly these.

// biome-ignore format: one list, in the header's order
export const COUNTER_NAMES = [
  'packets', 'bytes', 'ipv4', 'ipv6', 'nonIp', 'tcp', 'udp', 'udpLaterFragments', 'icmp', 'otherIp', 'tcpBytes', 'udpBytes', 'icmpBytes',
  'tcpSyn', 'tcpSynAck', 'tcpAck', 'tcpFin', 'tcpRst', 'tcpPsh', 'tcpUrg', 'tcpNull', 'tcpXmas', 'fragments',
  'malformed', 'vlan', 'passed', 'dropped', 'allowlisted', 'logged', 'ruleExpired', 'sampled', 'samplesLost',
] as const;
export type CounterName = (typeof COUNTER_NAMES)[number];
