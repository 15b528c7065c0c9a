/**
 * One process at a time on a directory: a pid file holding "PID START BOOT",
 * the owner's process id, its start time (clock ticks after boot, field 22 of
 * /proc/PID/stat) and the boot id. The file is put in place atomically
 * (written aside, then hard-linked: it exists only complete). A file whose
 * process is gone, or whose PID now belongs to another process (another start
 * time, another boot), is stale and taken over; so a PID reused after a crash
 * or a container restart never blocks start-up. A file of an older version
 * ("PID" alone) is stale when that PID's process started after the file was
 * written. Without /proc (not Linux), a live PID counts as the owner.
 */
import fs from 'node:fs';
import path from 'node:path';

export class LockBusy extends Error {
  readonly code = 'EBUSY';
  constructor(
    message: string,
    readonly pid: number,
  ) {
    super(message);
  }
}

/** Start time of a process in clock ticks after boot; null if there is no such process, undefined without /proc. */
export function startTicks(pid: number): string | null | undefined {
  let stat: string;
  try {
    stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    // No such process, or one we cannot see (no /proc, or hidepid): kill(0) tells which.
    return alive(pid) ? undefined : null;
  }
  // The name (field 2) is in parentheses and may hold spaces: count from the last ')'.
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

const read = (file: string) => {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
};
const bootId = () => read('/proc/sys/kernel/random/boot_id')?.trim();

/** Whether the process that wrote `content` (at `mtimeMs`) is still running. */
export function ownerRunning(content: string, mtimeMs: number): boolean {
  const [pidText, start, boot] = content.trim().split(/\s+/);
  const pid = Number(pidText);
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  const now = startTicks(pid);
  if (now === null) return false;
  if (now === undefined) return true;
  if (start !== undefined) return start === now && (boot === undefined || boot === bootId());
  // "PID" alone: running only if that process started before the file was written (btime has 1 s steps, ticks are 1/100 s).
  const btime = Number(/^btime (\d+)$/m.exec(read('/proc/stat') ?? '')?.[1]);
  return !(btime * 1000 + Number(now) * 10 > mtimeMs + 2000);
}

/** Takes the lock on `dir` (creating nothing but the pid file) and returns its release. */
export function lockDir(dir: string, name = 'breakwater.pid'): () => void {
  const file = path.join(dir, name);
  const mine = `${`${process.pid} ${startTicks(process.pid) ?? ''} ${bootId() ?? ''}`.trim()}\n`;
  const aside = `${file}.${process.pid}`;
  for (let attempt = 0; attempt < 5; attempt++) {
    if (create(file, aside, mine))
      return () => {
        if (read(file) === mine) fs.rmSync(file, { force: true });
      };
    let seen: string, mtimeMs: number;
    try {
      seen = fs.readFileSync(file, 'utf8');
      mtimeMs = fs.statSync(file).mtimeMs;
    } catch {
      continue; // removed meanwhile: try again
    }
    if (seen === mine) throw new LockBusy(`${dir} is already open in this process`, process.pid);
    if (ownerRunning(seen, mtimeMs)) {
      const pid = Number(seen.trim().split(/\s+/)[0]);
      throw new LockBusy(`${dir} is in use by process ${pid}`, pid);
    }
    takeOver(file, seen);
  }
  throw new Error(`cannot lock ${dir}: its pid file ${file} keeps changing`);
}

/** Puts `content` at `file` unless it exists: written aside and hard-linked, or with O_EXCL where links are not supported. */
function create(file: string, aside: string, content: string): boolean {
  fs.writeFileSync(aside, content);
  try {
    fs.linkSync(aside, file);
    return true;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return false;
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP') throw err;
  } finally {
    fs.rmSync(aside, { force: true });
  }
  try {
    fs.writeFileSync(file, content, { flag: 'wx' });
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  }
}

/** Removes a stale pid file, unless another process replaced it since it was judged stale (then it is put back). */
function takeOver(file: string, seen: string): void {
  const moved = `${file}.stale.${process.pid}`;
  try {
    fs.renameSync(file, moved);
  } catch {
    return; // already gone
  }
  const content = read(moved);
  if (content !== seen) {
    try {
      fs.linkSync(moved, file);
    } catch {
      /* a third process holds it now */
    }
  }
  fs.rmSync(moved, { force: true });
}
