// Run records: each lab run writes /run/breakwater-lab/ID.json (its own pid,
// its agents' pids, its temporary directories) before it creates anything,
// so that what a crashed run left behind (namespaces, pins, agent processes,
// directories) is removed by the next start: the one with the same id, and
// any other, for every record whose owner is gone.
import fs from 'node:fs';
import path from 'node:path';
import { removeNamespace } from './topology.ts';

const RECORDS = '/run/breakwater-lab';

interface LabRecord {
  pid: number;
  agentPids: number[];
  dirs: string[];
}

export interface RunRecord {
  /** Records a directory to remove and saves. */
  addDir(dir: string): void;
  /** Records an agent process to kill and saves. */
  addAgent(pid: number): void;
  /** The directories recorded so far. */
  readonly dirs: readonly string[];
  /** Deletes the record (the run removed everything itself). */
  remove(): void;
}

function alive(pid: number | undefined, mustContain?: string): boolean {
  if (!pid) return false;
  try {
    process.kill(pid, 0);
    return mustContain ? fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(mustContain) : true;
  } catch {
    return false;
  }
}

function read(file: string): LabRecord | undefined {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch {
    return undefined;
  }
}

/** Removes what the run recorded in `file` left: its agents, namespaces and pins, directories, the record. */
function clean(id: string, file: string, rec: LabRecord | undefined): void {
  for (const pid of rec?.agentPids ?? []) if (alive(pid, 'agent')) process.kill(pid, 'SIGKILL');
  removeNamespace(`bwv-${id}`);
  removeNamespace(`bwa-${id}`);
  for (const d of rec?.dirs ?? []) fs.rmSync(d, { recursive: true, force: true });
  fs.rmSync(file, { force: true });
}

/** Removes the leftovers of lab `id` and of every run whose process is gone; throws while `id` is in use. */
export function cleanupStale(id: string): void {
  const files = fs.existsSync(RECORDS) ? fs.readdirSync(RECORDS).filter((f) => f.endsWith('.json')) : [];
  for (const f of files) {
    const other = f.slice(0, -'.json'.length);
    if (other === id) continue;
    const rec = read(path.join(RECORDS, f));
    if (rec && !alive(rec.pid)) clean(other, path.join(RECORDS, f), rec);
  }
  const file = path.join(RECORDS, `${id}.json`);
  const rec = read(file);
  if (rec && rec.pid !== process.pid && alive(rec.pid)) throw new Error(`lab '${id}' is in use by process ${rec.pid}; stop it first`);
  clean(id, file, rec);
}

/** Cleans up after earlier runs (cleanupStale), then records this one. */
export function claimRecord(id: string): RunRecord {
  cleanupStale(id);
  const file = path.join(RECORDS, `${id}.json`);
  const rec: LabRecord = { pid: process.pid, agentPids: [], dirs: [] };
  const save = () => {
    fs.mkdirSync(RECORDS, { recursive: true });
    fs.writeFileSync(file, JSON.stringify(rec));
  };
  save();
  return {
    dirs: rec.dirs,
    addDir(dir) {
      rec.dirs.push(dir);
      save();
    },
    addAgent(pid) {
      rec.agentPids.push(pid);
      save();
    },
    remove() {
      fs.rmSync(file, { force: true });
    },
  };
}
