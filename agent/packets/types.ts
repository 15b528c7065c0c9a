/**
 * What the agent's forensics see of the kernel's packet samples, and the
 * interface each consumer of them (capture, IOC signatures, countries)
 * implements. Consumers are created in consumers.ts and driven by the agent:
 * samples as they arrive, incident events as the detector makes them.
 */
import type { ConfigReply, IncidentReport } from '../../contract/wire/agent.ts';
import type { Sample } from '../../native/index.ts';
import type { DetectorEvent } from '../detect/index.ts';
import type { Head } from './head.ts';

export interface PacketSample {
  /** When the kernel saw it: CLOCK_MONOTONIC, ns (the kernel's own clock). */
  monoNs: bigint;
  /** The same instant on the wall clock, ms since the epoch. */
  wallMs: number;
  /** The same instant on the detector's clock (performance.now(), like its events' atMs and started_at_ms). */
  atMs: number;
  /** Frame length on the wire. */
  length: number;
  verdict: Sample['verdict'];
  /** The first bytes of the frame (at most the kernel's BW_SAMPLE_BYTES). */
  data: Buffer;
  /** Parsed head; null when the frame is not IP or too short to tell. */
  head: Head | null;
}

export interface SampleConsumer {
  /** Every batch of samples the kernel hands over, in order. */
  onSamples(batch: readonly PacketSample[]): void;
  /** The detector's events; key names the incident for the agent (and its spool). */
  onIncident?(ev: DetectorEvent, key: string): void;
  /** Each config poll's reply (GET /config: ioc_patterns, ...). */
  onConfig?(config: Partial<ConfigReply>): void;
  /** What this consumer adds to the report of the current incident (SPEC fields and extensions). */
  reportFields?(): Partial<IncidentReport>;
  /** The agent stops: flush what must not be lost. */
  stop?(): Promise<void> | void;
}
