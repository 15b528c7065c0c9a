/**
 * Where finished capture files wait for the outbox: `captures/` under the
 * spool directory, one file per part, named `KEY.PART.pcapng` after the
 * incident's local key. A file is written under a `.tmp-` name and renamed
 * into place once whole (fsync'd), so the outbox only ever sees complete
 * files; it moves each into the spool beside the record that uploads it
 * (agent/outbox.ts), also those a previous run left behind.
 */
import fs from 'node:fs';
import path from 'node:path';

const READY = /^([0-9a-z][0-9a-z-]{0,63})\.([1-9][0-9]{0,5})\.pcapng$/;
const TMP = '.tmp-';

export interface ReadyCapture {
  file: string;
  key: string;
  part: number;
}

export const inboxDir = (spoolDir: string) => path.join(spoolDir, 'captures');

export function captureName(key: string, part: number): string {
  const name = `${key}.${part}.pcapng`;
  if (!READY.test(name)) throw new Error(`not a capture name: ${name}`);
  return name;
}

export const tempName = (key: string, part: number) => `${TMP}${captureName(key, part)}`;

/**
 * The first part number from `from` on that no file in the inbox has: an
 * incident resumed after a restart keeps its key, and its earlier run's parts
 * may still wait there.
 */
export function freePart(dir: string, key: string, from: number): number {
  let n = from;
  while (fs.existsSync(path.join(dir, captureName(key, n))) || fs.existsSync(path.join(dir, tempName(key, n)))) n++;
  return n;
}

/** The finished files, oldest first (then by part). */
export function readyCaptures(dir: string): ReadyCapture[] {
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return [];
  }
  const out: (ReadyCapture & { at: number })[] = [];
  for (const n of names) {
    const m = READY.exec(n);
    if (!m) continue;
    const file = path.join(dir, n);
    try {
      out.push({ file, key: m[1]!, part: Number(m[2]), at: fs.statSync(file).mtimeMs });
    } catch {
      /* taken meanwhile */
    }
  }
  out.sort((a, b) => a.at - b.at || a.part - b.part);
  return out.map(({ file, key, part }) => ({ file, key, part }));
}

/** Removes the files a killed agent was still writing (they lack their last blocks). */
export function removeTemps(dir: string): number {
  let n = 0;
  try {
    for (const f of fs.readdirSync(dir))
      if (f.startsWith(TMP)) {
        fs.rmSync(path.join(dir, f), { force: true });
        n++;
      }
  } catch {
    /* no inbox yet */
  }
  return n;
}
