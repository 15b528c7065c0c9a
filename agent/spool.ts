/**
 * The on-disk spool: an ordered queue of records (metric samples, incident
 * events) that survives the server being down and the agent being killed.
 * One file per record, named by a 16-digit sequence number, MessagePack
 * inside; each is written to a temporary name, fsync'd, renamed into place
 * and the directory fsync'd, so after a kill -9 a record is either whole or
 * absent. A record may own a file (a capture): it is moved in beside the
 * record as SEQ.EXT before the record is written, counts towards the bound,
 * and leaves with it; one without its record (a crash between the two) is
 * removed at start. Records leave the spool only when the server has taken
 * them (remove()). Bounded in bytes: beyond the bound the oldest records go
 * first (and are counted in `dropped`).
 */
import fs from 'node:fs';
import path from 'node:path';
import { Packr } from 'msgpackr';

const packr = new Packr({ useRecords: false, mapsAsObjects: true });
const NAME = /^(\d{16})\.rec$/;
const ATTACHED = /^(\d{16})\.([a-z0-9]{1,16})$/;

export interface SpoolEntry<T = unknown> {
  seq: number;
  record: T;
}

export class Spool<T = unknown> {
  private readonly index: { seq: number; size: number; attached?: string }[] = [];
  private bytes = 0;
  private nextSeq = 1;
  private dirFd: number | null;
  dropped = 0;

  constructor(
    readonly dir: string,
    readonly maxBytes: number,
  ) {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    const files = fs.readdirSync(dir);
    const attached = new Map<number, string>();
    for (const f of files) {
      const m = ATTACHED.exec(f);
      if (m && m[2] !== 'rec') attached.set(Number(m[1]), f);
    }
    for (const f of files) {
      const m = NAME.exec(f);
      if (!m) {
        if (f.startsWith('.tmp-')) fs.rmSync(path.join(dir, f), { force: true }); // a write cut short by a crash
        continue;
      }
      const seq = Number(m[1]);
      const own = attached.get(seq);
      attached.delete(seq);
      const size = fs.statSync(path.join(dir, f)).size + (own ? fs.statSync(path.join(dir, own)).size : 0);
      this.index.push({ seq, size, ...(own ? { attached: own } : {}) });
      this.bytes += size;
    }
    for (const orphan of attached.values()) fs.rmSync(path.join(dir, orphan), { force: true });
    this.index.sort((a, b) => a.seq - b.seq);
    this.nextSeq = (this.index[this.index.length - 1]?.seq ?? 0) + 1;
    this.dirFd = fs.openSync(dir, 'r');
  }

  private file(seq: number): string {
    return path.join(this.dir, `${String(seq).padStart(16, '0')}.rec`);
  }

  get length(): number {
    return this.index.length;
  }

  get size(): number {
    return this.bytes;
  }

  /** The file a record owns, if any. */
  attachment(seq: number): string | undefined {
    const e = this.index.find((x) => x.seq === seq);
    return e?.attached ? path.join(this.dir, e.attached) : undefined;
  }

  /** Appends a record durably, with the file it owns moved in (same file system); returns its sequence number. */
  append(record: T, file?: string): number {
    const seq = this.nextSeq++;
    let attached: string | undefined;
    let fileSize = 0;
    if (file) {
      const ext = /\.([a-z0-9]{1,16})$/.exec(file)?.[1] ?? 'bin';
      attached = `${String(seq).padStart(16, '0')}.${ext === 'rec' ? 'bin' : ext}`;
      fileSize = fs.statSync(file).size;
      fs.renameSync(file, path.join(this.dir, attached));
    }
    const data = packr.pack(record);
    const tmp = path.join(this.dir, `.tmp-${seq}`);
    const fd = fs.openSync(tmp, 'w', 0o600);
    try {
      fs.writeSync(fd, data);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, this.file(seq));
    if (this.dirFd !== null) fs.fsyncSync(this.dirFd);
    this.index.push({ seq, size: data.length + fileSize, ...(attached ? { attached } : {}) });
    this.bytes += data.length + fileSize;
    while (this.bytes > this.maxBytes && this.index.length > 1) {
      const old = this.index[0]!;
      this.remove(old.seq);
      this.dropped++;
    }
    return seq;
  }

  /** The oldest `max` records, in order (unreadable files are skipped and removed). */
  peek(max: number): SpoolEntry<T>[] {
    const out: SpoolEntry<T>[] = [];
    for (const { seq } of this.index.slice(0, max)) {
      try {
        out.push({ seq, record: packr.unpack(fs.readFileSync(this.file(seq))) as T });
      } catch {
        this.remove(seq);
      }
    }
    return out;
  }

  /** Removes the records up to and including `seq` in order, or just `seq`. */
  remove(seq: number): void {
    const at = this.index.findIndex((e) => e.seq === seq);
    if (at < 0) return;
    const [e] = this.index.splice(at, 1);
    this.bytes -= e!.size;
    fs.rmSync(this.file(seq), { force: true });
    if (e!.attached) fs.rmSync(path.join(this.dir, e!.attached), { force: true });
  }

  close(): void {
    if (this.dirFd !== null) fs.closeSync(this.dirFd);
    this.dirFd = null;
  }
}
