/**
 * The capture consumer: while calm it keeps the last RING_SIZE samples; at
 * an incident's opening it starts part 1 with them (the seconds before the
 * onset, and the onset itself) and records every sample the tap hands over
 * until FIRST_PART_MS later, when part 1 goes to the outbox (at the server
 * within seconds) and part 2 starts; part 2 runs to the resolve. A part is
 * at most MAX_PCAP_BYTES (a new one starts past it) and an incident's parts
 * together at most maxBytes (recording stops there, and says so).
 */
import { MAX_PCAP_BYTES } from '../../contract/limits.ts';
import type { DetectorEvent } from '../detect/index.ts';
import type { Logger } from '../log.ts';
import type { PacketSample, SampleConsumer } from '../packets/types.ts';
import { freePart } from './inbox.ts';
import { CapturePart, type Counts } from './part.ts';
import { SampleRing } from './ring.ts';

export const RING_SIZE = 2_000;
export const FIRST_PART_MS = 5_000;
/** Room kept in every part for its statistics block. */
const TRAILER = 1024;

export interface CaptureOptions {
  /** The inbox (agent/capture/inbox.ts). */
  dir: string;
  iface: string;
  snapLen: number;
  /** Bytes of capture per incident, all parts. */
  maxBytes: number;
  log: Logger;
  /** The kernel's counters now (null: not readable). */
  counters: () => Counts | null;
  /** Called by stop(), after the last part. */
  close?: () => void;
  ringSize?: number;
  firstPartMs?: number;
  partMaxBytes?: number;
}

interface Recording {
  key: string;
  family: string;
  onsetAtMs: number;
  onset: string;
  part: CapturePart | null;
  parts: number;
  bytes: number;
  packets: number;
  /** The first sample at or after the onset is marked. */
  marked: boolean;
  timer: NodeJS.Timeout | null;
}

export class CaptureConsumer implements SampleConsumer {
  private readonly ring: SampleRing;
  private rec: Recording | null = null;
  /** Files handed to the outbox, for logs and tests. */
  readonly finished: { file: string; packets: number; bytes: number }[] = [];

  constructor(private readonly o: CaptureOptions) {
    this.ring = new SampleRing(o.ringSize ?? RING_SIZE);
  }

  onSamples(batch: readonly PacketSample[]): void {
    this.ring.push(batch);
    if (this.rec?.part) for (const s of batch) this.record(this.rec, s);
  }

  onIncident(ev: DetectorEvent, key: string): void {
    if (ev.type === 'opened') this.open(ev, key);
    else if (ev.type === 'resolved' && this.rec?.key === key) this.close();
  }

  private open(ev: DetectorEvent, key: string): void {
    this.close();
    if (this.o.maxBytes <= 0) return;
    const onsetAtMs = ev.extension.started_at_ms;
    const onset = new Date(Date.now() - (performance.now() - onsetAtMs)).toISOString();
    const rec: Recording = {
      key,
      family: ev.incident.attack_family,
      onsetAtMs,
      onset,
      part: null,
      parts: 0,
      bytes: 0,
      packets: 0,
      marked: false,
      timer: null,
    };
    this.rec = rec;
    this.startPart(rec);
    for (const s of this.ring.toArray()) this.record(rec, s);
    rec.timer = setTimeout(() => this.nextPart(rec), this.o.firstPartMs ?? FIRST_PART_MS);
    rec.timer.unref?.();
  }

  private startPart(rec: Recording): void {
    try {
      rec.parts = freePart(this.o.dir, rec.key, rec.parts + 1);
      rec.part = new CapturePart(
        this.o.dir,
        { key: rec.key, part: rec.parts, family: rec.family, iface: this.o.iface, snapLen: this.o.snapLen },
        this.o.counters(),
        rec.onset,
      );
    } catch (e) {
      rec.part = null;
      this.o.log.warn('cannot write a capture file; this incident is not captured further', { error: (e as Error).message });
    }
  }

  private record(rec: Recording, s: PacketSample): void {
    const part = rec.part;
    if (!part) return;
    const note = !rec.marked && s.atMs >= rec.onsetAtMs ? "incident onset (the detector's)" : undefined;
    const incidentRoom = this.o.maxBytes - rec.bytes - TRAILER;
    const partRoom = (this.o.partMaxBytes ?? MAX_PCAP_BYTES) - part.bytes - TRAILER;
    const before = part.bytes;
    if (part.add(s, Math.min(incidentRoom, partRoom), note)) {
      rec.bytes += part.bytes - before;
      rec.packets++;
      if (note) rec.marked = true;
    } else if (partRoom < incidentRoom) {
      this.nextPart(rec);
      if (rec.part) this.record(rec, s);
    } else {
      this.endPart(rec, `the capture stops here: the incident's ${this.o.maxBytes} bytes are used`);
    }
  }

  /** Hands the current part to the outbox and starts the next. */
  private nextPart(rec: Recording): void {
    if (this.rec !== rec || !rec.part) return;
    this.endPart(rec);
    this.startPart(rec);
  }

  private endPart(rec: Recording, note?: string): void {
    const part = rec.part;
    rec.part = null;
    if (!part) return;
    try {
      const file = part.finish(this.o.counters(), note);
      if (file) {
        this.finished.push({ file, packets: part.packets, bytes: part.bytes });
        this.o.log.info('capture written', { incident: rec.key, part: part.info.part, packets: part.packets, bytes: part.bytes });
      }
    } catch (e) {
      part.abandon();
      this.o.log.warn('cannot finish a capture file', { error: (e as Error).message });
    }
  }

  /** Ends the incident's recording: its last part goes to the outbox. */
  private close(): void {
    const rec = this.rec;
    if (!rec) return;
    if (rec.timer) clearTimeout(rec.timer);
    this.endPart(rec);
    this.rec = null;
  }

  stop(): void {
    this.close();
    this.o.close?.();
  }
}
