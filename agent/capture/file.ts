/**
 * One capture file being written: blocks are buffered and appended to a
 * temporary file in the inbox (a few hundred KiB at most in memory);
 * finish() appends the statistics block, fsyncs, and renames the file to its
 * ready name for the outbox. A part that ends without packets is removed
 * (the server refuses a capture with none).
 */
import fs from 'node:fs';
import path from 'node:path';

const FLUSH_BYTES = 256 * 1024;

export class CaptureFile {
  private fd: number | null;
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  /** Bytes of the file so far (written or buffered). */
  bytes = 0;
  packets = 0;

  constructor(
    private readonly tmp: string,
    private readonly ready: string,
    header: Buffer,
  ) {
    fs.mkdirSync(path.dirname(tmp), { recursive: true, mode: 0o700 });
    this.fd = fs.openSync(tmp, 'w', 0o600);
    this.append(header);
  }

  get open(): boolean {
    return this.fd !== null;
  }

  /** Appends one enhanced packet block. */
  addPacket(block: Buffer): void {
    this.append(block);
    this.packets++;
  }

  private append(block: Buffer): void {
    this.pending.push(block);
    this.pendingBytes += block.length;
    this.bytes += block.length;
    if (this.pendingBytes >= FLUSH_BYTES) this.flush();
  }

  private flush(): void {
    if (this.fd === null || !this.pending.length) return;
    fs.writeSync(this.fd, Buffer.concat(this.pending, this.pendingBytes));
    this.pending = [];
    this.pendingBytes = 0;
  }

  /** Closes the file with its last block; returns the ready file, or null when it held no packets. */
  finish(trailer: Buffer): string | null {
    if (this.fd === null) return null;
    if (this.packets === 0) {
      this.abandon();
      return null;
    }
    this.append(trailer);
    this.flush();
    fs.fsyncSync(this.fd);
    fs.closeSync(this.fd);
    this.fd = null;
    fs.renameSync(this.tmp, this.ready);
    const dir = fs.openSync(path.dirname(this.ready), 'r');
    try {
      fs.fsyncSync(dir);
    } finally {
      fs.closeSync(dir);
    }
    return this.ready;
  }

  abandon(): void {
    if (this.fd !== null) fs.closeSync(this.fd);
    this.fd = null;
    this.pending = [];
    fs.rmSync(this.tmp, { force: true });
  }
}
