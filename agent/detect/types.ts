/**
 * Types of the pure detection module: what comes in each tick (TrafficSample,
 * DetectorConfig) and what goes out (DetectorEvent carrying the SPEC incident
 * fields). Rates are per second over the tick's interval; "window" counts come
 * from the kernel's talker tables and cover the current talker window
 * (windowMs), scaled by the talker sampling period.
 */
import type { AttackFamily, VectorSubtype } from '../../contract/enums.ts';
import type { IncidentFields as ContractIncidentFields } from '../../contract/wire/agent.ts';

/** Packets (or bits) per second by L4 protocol. ICMP includes ICMPv6. */
export interface ProtocolRates {
  tcp: number;
  udp: number;
  icmp: number;
  /** Other IP protocols (GRE, ESP, ...). For bits, 0 when unknown. */
  other: number;
}

/** TCP flag counters per second, with the kernel's meanings (bpf/counters.bpf.h). */
export interface TcpFlagRates {
  syn: number; // SYN without ACK
  synack: number;
  ack: number; // ACK without SYN (includes PSH+ACK, FIN+ACK, RST+ACK)
  fin: number;
  rst: number;
  psh: number;
  urg: number;
  null: number; // no flag at all
  xmas: number; // FIN, PSH and URG together
}

export interface SourceCount {
  ip: string;
  count: number;
}

export interface PortCount {
  port: number;
  count: number;
}

/** One tick of kernel counters, turned into rates by the agent. */
export interface TrafficSample {
  /** End of the interval, ms (any monotonic origin). */
  timestampMs: number;
  /** Length of the interval the rates cover, ms (about 100). */
  intervalMs: number;
  pps: number;
  /** Bits per second. */
  bps: number;
  protoPps: ProtocolRates;
  protoBps: ProtocolRates;
  tcpFlags: TcpFlagRates;
  fragmentsPps: number;
  /**
   * UDP fragments past the first, per second (in protoPps.udp, without ports:
   * the port shares leave them out). Absent: none.
   */
  udpLaterFragmentsPps?: number;
  /** Packets the kernel could not parse in full, and packets its rules dropped, per second. */
  malformedPps: number;
  droppedPps: number;
  /** Distinct-source estimate (HyperLogLog) of the current talker window. */
  distinctSources: number;
  /**
   * The source estimator's registers of the current talker window
   * (HyperLogLog, bpf/breakwater.h BW_HLL_REGS); an incident's register-wise
   * maximum over its windows estimates its distinct sources (a union).
   */
  hll?: Uint8Array;
  /** Packets of the interval by received TTL / hop limit, 256 buckets. */
  ttlHistogram: readonly number[];
  /** Packets of the interval by length: 0-64, 65-128, 129-256, 257-512, 513-1024, 1025-1500, >1500. */
  lengthHistogram: readonly number[];
  /** Duration of the talker window the top lists and distinctSources cover, ms. */
  windowMs: number;
  /**
   * Packets counted since the talker window started, exact (from the
   * counters). Absent: estimated as the tick's rate x windowMs, which
   * overstates the window's packets in the first ticks of a flood.
   */
  windowPackets?: { all: number; tcp: number; udp: number; udpLaterFragments?: number };
  topSources: readonly SourceCount[];
  topTcpDstPorts: readonly PortCount[];
  topUdpDstPorts: readonly PortCount[];
  topUdpSrcPorts: readonly PortCount[];
}

/** The server's baseline (GET /config), in packets per second. */
export interface ServerBaseline {
  mean_pps: number;
  p95_pps?: number;
  p99_pps: number;
}

export interface DetectorConfig {
  /** Static threshold from the server (pps_threshold); null or 0 = none. */
  ppsThreshold?: number | null;
  /** Static bits-per-second threshold (extension); null or 0 = none. */
  bpsThreshold?: number | null;
  /**
   * Extension: 'dynamic' (default): the baseline's threshold, the static values as caps;
   * 'static': the static values alone (the baseline's where one is missing).
   */
  mode?: 'static' | 'dynamic';
  /** Extension: the dynamic pps threshold's floor for this node; null = the tuning's (5,000). */
  floorPps?: number | null;
  serverBaseline?: ServerBaseline | null;
  tuning?: Partial<DetectorTuning>;
}

/** Every knob, with defaults in tuning.ts and meanings in docs/detection.md. */
export interface DetectorTuning {
  dynamicMultiplier: number;
  floorPps: number;
  floorBps: number;
  coldPps: number;
  coldBps: number;
  surgeRatio: number;
  surgeMs: number;
  fastRatio: number;
  fastMs: number;
  midRatio: number;
  midMs: number;
  midFraction: number;
  confirmRatio: number;
  confirmMs: number;
  confirmFraction: number;
  closeRatio: number;
  holdMs: number;
  earlyUpdateMs: number;
  firstUpdateMs: number;
  updateMs: number;
  maxGapMs: number;
  vectorShare: number;
  familyHoldMs: number;
  normalLagMs: number;
  normalBeforeOnsetMs: number;
  baselineHalfLifeMs: number;
  baselineWarmupSeconds: number;
  profileHalfLifeMs: number;
}

export type { AttackFamily, Severity } from '../../contract/enums.ts';

/** The SPEC fields of POST /incident the detector fills, as the contract types them (contract/wire/agent.ts). */
type SpecField =
  | 'attack_family'
  | 'severity'
  | 'peak_pps'
  | 'peak_bps'
  | 'protocol_breakdown'
  | 'tcp_flag_breakdown'
  | 'geo_breakdown'
  | 'source_ip_count'
  | 'top_src_ips'
  | 'top_dst_ports'
  | 'ioc_matches'
  | 'spoofing_detected'
  | 'botnet_detected';
/** And the extensions it fills (the report's sub-type travels in the event's extension). */
type ExtensionField = 'vectors' | 'length_histogram' | 'ttl_histogram' | 'fragments' | 'malformed' | 'dropped';
export type IncidentFields = Required<Pick<ContractIncidentFields, SpecField | ExtensionField>> & {
  protocol_breakdown: { tcp: number; udp: number; icmp: number; other: number };
};

/** One component of an attack (several make a multi_vector incident). */
export interface Vector {
  family: Exclude<AttackFamily, 'multi_vector'>;
  subtype: VectorSubtype;
  /** Excess packets per second over the normal profile. */
  pps: number;
}

/** Ours, not SPEC: what the agent may send as an extension or log. */
export interface IncidentExtension {
  /** Local sequence number of the incident since the detector was created. */
  seq: number;
  attack_subtype: string;
  vectors: Vector[];
  threshold_pps: number;
  threshold_bps: number;
  started_at_ms: number;
  ended_at_ms: number | null;
}

export type DetectorEventType = 'opened' | 'updated' | 'resolved';

export interface DetectorEvent {
  type: DetectorEventType;
  atMs: number;
  incident: IncidentFields;
  extension: IncidentExtension;
}
