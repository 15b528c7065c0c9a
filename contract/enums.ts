/** The enumerations of the wire contract: SPEC.md names where they are SPEC's, the rest are extensions. */

/** SPEC POST /incident attack_family. */
export const ATTACK_FAMILIES = ['udp_flood', 'syn_flood', 'http_flood', 'icmp_flood', 'dns_flood', 'multi_vector', 'unknown'] as const;
export type AttackFamily = (typeof ATTACK_FAMILIES)[number];

/** SPEC POST /incident severity, least to most. */
export const SEVERITIES = ['low', 'medium', 'high', 'critical'] as const;
export type Severity = (typeof SEVERITIES)[number];

/** UDP source ports of amplification reflectors, and the sub-type each names. */
export const REFLECTION_SUBTYPES = {
  53: 'dns_reflection',
  123: 'ntp_reflection',
  1900: 'ssdp_reflection',
  11211: 'memcached_reflection',
  389: 'cldap_reflection',
  19: 'chargen_reflection',
  161: 'snmp_reflection',
  3702: 'wsd_reflection',
} as const satisfies Record<number, string>;

/**
 * Extension attack_subtype: the vector sub-types the agent's classifier
 * names; a multi_vector incident joins its vectors' with '+'.
 */
export const VECTOR_SUBTYPES = [
  'udp_generic',
  'udp_fragment',
  'dns_query',
  ...Object.values(REFLECTION_SUBTYPES),
  'syn',
  'synack',
  'ack',
  'rst',
  'fin',
  'xmas',
  'null',
  'psh_ack',
  'tcp_other',
  'http',
  'icmp',
  'ip_other',
  'unknown',
] as const;
export type VectorSubtype = (typeof VECTOR_SUBTYPES)[number];

export const INCIDENT_STATUSES = ['open', 'resolved'] as const;

/** Capture formats POST /pcap takes (classic pcap in either byte order, µs or ns; pcapng). */
export const PCAP_FORMATS = ['pcap', 'pcapng'] as const;
export type PcapFormat = (typeof PCAP_FORMATS)[number];

/** Extension: an agent's answer to a pending command. */
export const ACK_STATUSES = ['applied', 'failed'] as const;
export type AckStatus = (typeof ACK_STATUSES)[number];

/** A mitigation rule's state as the user API reports it. */
export const RULE_STATES = ['pending', 'active', 'failed', 'withdrawn', 'expired'] as const;
export type RuleState = (typeof RULE_STATES)[number];

/** Extension: where a rule in a node's kernel came from (POST /rules): a server command, the agent's auto-mitigation, or not known (found at start). */
export const KERNEL_RULE_ORIGINS = ['command', 'local', 'unknown'] as const;
export type KernelRuleOrigin = (typeof KERNEL_RULE_ORIGINS)[number];
