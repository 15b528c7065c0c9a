/** Small JSON files kept across restarts, written atomically (temp file, fsync, rename). */
import fs from 'node:fs';
import path from 'node:path';

export function readJson(file: string): unknown {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch {
    return undefined;
  }
}

export function writeJsonAtomic(file: string, value: unknown): void {
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.tmp-${process.pid}`;
  const fd = fs.openSync(tmp, 'w', 0o600);
  try {
    fs.writeSync(fd, JSON.stringify(value));
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, file);
}

/** Local incident key -> server incident id, bounded, persisted on each change. */
export class IncidentIds {
  private readonly map: Map<string, number>;

  constructor(
    private readonly file: string | null,
    private readonly capacity = 256,
  ) {
    const saved = file ? readJson(file) : undefined;
    const entries = Array.isArray(saved)
      ? saved.filter((e): e is [string, number] => Array.isArray(e) && typeof e[0] === 'string' && typeof e[1] === 'number')
      : [];
    this.map = new Map(entries);
  }

  get(key: string): number | undefined {
    return this.map.get(key);
  }

  set(key: string, id: number): void {
    this.map.set(key, id);
    while (this.map.size > this.capacity) this.map.delete(this.map.keys().next().value!);
    if (this.file) writeJsonAtomic(this.file, [...this.map]);
  }
}
