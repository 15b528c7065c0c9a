/**
 * One part of an incident's capture as pcapng: the section header says what
 * it is (incident, part, family, onset), the interface description gives the
 * snap length and ns timestamps, each sample becomes an enhanced packet block
 * dated by the file's one monotonic-to-wall offset, with its XDP verdict as
 * epb_verdict and Breakwater's own verdict as a comment where it says more
 * than pass or drop; the statistics block closing the file holds what the
 * kernel counted while the part was open (isb_ifdrop: samples lost).
 */
import os from 'node:os';
import path from 'node:path';
import { XDP_DROP, XDP_PASS } from '../../native/index.ts';
import type { PacketSample } from '../packets/types.ts';
import { monotonicToWallNs } from './clock.ts';
import { CaptureFile } from './file.ts';
import { captureName, tempName } from './inbox.ts';
import { EPB_INBOUND, enhancedPacket, interfaceDescription, interfaceStatistics, sectionHeader } from './pcapng.ts';

/** Kernel counters a part reports (native Snapshot counters). */
export interface Counts {
  packets: number;
  dropped: number;
  samplesLost: number;
}

export interface PartInfo {
  key: string;
  part: number;
  family: string;
  iface: string;
  snapLen: number;
}

const VERDICT_NOTE: Partial<Record<PacketSample['verdict'], string>> = {
  allow: 'breakwater: allowlisted source (passed)',
  log: 'breakwater: matched a log-only rule (passed)',
  malformed: 'breakwater: malformed (passed)',
};

const wallNs = () => BigInt(Date.now()) * 1_000_000n;

export class CapturePart {
  readonly file: CaptureFile;
  private readonly offsetNs = monotonicToWallNs();
  private readonly startNs = wallNs();

  constructor(
    dir: string,
    readonly info: PartInfo,
    private readonly startCounts: Counts | null,
    onset: string,
  ) {
    const header = Buffer.concat([
      sectionHeader({
        comment: `Breakwater capture of incident ${info.key} (${info.family}), part ${info.part}; onset ${onset}`,
        os: `${os.type()} ${os.release()}`,
        application: 'Breakwater agent',
      }),
      interfaceDescription({
        snapLen: info.snapLen,
        name: info.iface,
        description: `packet heads sampled by Breakwater's XDP program (the first ${info.snapLen} bytes of 1 in N packets)`,
      }),
    ]);
    this.file = new CaptureFile(path.join(dir, tempName(info.key, info.part)), path.join(dir, captureName(info.key, info.part)), header);
  }

  get bytes(): number {
    return this.file.bytes;
  }

  get packets(): number {
    return this.file.packets;
  }

  /** Adds a sample unless its block would take the part past `room` more bytes; returns whether it did. */
  add(s: PacketSample, room: number, note?: string): boolean {
    const said = VERDICT_NOTE[s.verdict];
    const comment = note && said ? `${note}; ${said}` : (note ?? said);
    const block = enhancedPacket({
      timeNs: s.monoNs + this.offsetNs,
      data: s.data,
      length: s.length,
      flags: EPB_INBOUND,
      xdpAction: s.verdict === 'drop' ? XDP_DROP : XDP_PASS,
      ...(comment ? { comment } : {}),
    });
    if (block.length > room) return false;
    this.file.addPacket(block);
    return true;
  }

  /** Closes the part; returns its ready file (null: it held no packets). */
  finish(counts: Counts | null, note?: string): string | null {
    const now = wallNs();
    const d = (k: keyof Counts) => (counts && this.startCounts ? BigInt(Math.max(0, counts[k] - this.startCounts[k])) : undefined);
    const dropped = d('dropped');
    const comment = [
      'counts of the XDP program between isb_starttime and isb_endtime: isb_ifrecv packets received, ' +
        'isb_ifdrop samples lost in the kernel (rate cap or ring full), isb_usrdeliv packet heads in this file' +
        (dropped === undefined ? '' : `; ${dropped} packets dropped by rules`),
      note,
    ]
      .filter(Boolean)
      .join('; ');
    return this.file.finish(
      interfaceStatistics({
        timeNs: now,
        startNs: this.startNs,
        endNs: now,
        received: d('packets'),
        dropped: d('samplesLost'),
        delivered: BigInt(this.file.packets),
        comment,
      }),
    );
  }

  abandon(): void {
    this.file.abandon();
  }
}
