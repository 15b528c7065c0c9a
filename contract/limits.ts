/**
 * Every bound of the wire contract, in one place: what a client may send
 * and what the server promises to accept. The agent sizes its requests by
 * these numbers and the server's schemas (./wire) enforce them.
 */

/** Metric samples in one POST /metrics request (an agent back from an outage sends its spool in batches this size). */
export const MAX_SAMPLES_PER_REQUEST = 600;

/** Command answers in one POST /commands/ack request (extension: a batch of commands, answered at once). */
export const MAX_ACKS_PER_REQUEST = 256;

/** Request body sizes, bytes, by agent route (a larger one is 413). */
export const BODY_LIMITS = {
  heartbeat: 4 * 1024,
  metrics: 1024 * 1024,
  incident: 256 * 1024,
  resolve: 4 * 1024,
  ack: 4 * 1024,
  /** POST /commands/ack: MAX_ACKS_PER_REQUEST answers with reasons of up to 1,000 characters. */
  acks: 320 * 1024,
  /** POST /rules (extension): MAX_KERNEL_RULES_REPORTED rules of at most ~300 bytes each in JSON. */
  rules: 6 * 1024 * 1024,
  /** User API bodies. */
  user: 256 * 1024,
} as const;

/** A capture upload (POST /pcap), bytes (SPEC: 50 MB). */
export const MAX_PCAP_BYTES = 50 * 1024 * 1024;

/** Nesting of any JSON or MessagePack body or field: arrays and objects, the top level counting as 1. */
export const MAX_DEPTH = 16;
/** Values (scalars, arrays, objects) in one body, all levels together. */
export const MAX_VALUES = 200_000;

/**
 * recorded_at is accepted from this long before the server's clock (an
 * agent's spool holds about a week of samples) to this long after it (clock
 * skew). A sample outside the window is refused with 400 naming it: stored,
 * it would freeze the node's current values (a future time), poison its
 * baseline and outlive retention.
 */
export const RECORDED_AT_PAST_MS = 7 * 24 * 3600_000;
export const RECORDED_AT_FUTURE_MS = 5 * 60_000;

/** Timestamps anywhere (queries, bodies): years 1970 to 9999, in PostgreSQL's range and JavaScript's. */
export const MIN_YEAR = 1970;
export const MAX_YEAR = 9999;

/** Largest rates a sample may report: 2^40 packets/s and 2^50 bits/s (far past any link). */
export const MAX_PPS = 2 ** 40;
export const MAX_BPS = 2 ** 50;

/** Entries of a list field of an incident report (top_src_ips, top_dst_ports, ioc_matches). */
export const MAX_LIST = 1000;
/** Keys of a breakdown field (protocol_breakdown, tcp_flag_breakdown, geo_breakdown). */
export const MAX_BREAKDOWN_KEYS = 300;
/**
 * Rules in one kernel-rules report (POST /rules, extension). The kernel holds
 * up to 65,536, but a body may carry at most MAX_VALUES values and a rule is
 * up to 11 of them: 16,384 rules fit with room to spare (the agent's default
 * maxRules is 10,000). An agent holding more sends the first ones and says
 * `truncated`, and the server then concludes nothing from what is absent.
 */
export const MAX_KERNEL_RULES_REPORTED = 16_384;
/** IOC patterns of a workspace. */
export const MAX_IOC_PATTERNS = 10_000;
