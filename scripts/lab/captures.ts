// The packet captures a lab run's incidents left at its server, downloaded
// through the user API (GET /api/v1/pcaps/:id) into one file per incident:
// its parts one after the other, each a pcapng
// section (a file may hold several; Wireshark and tshark read them in order).
// Not mergecap: Wireshark 4.0's (Debian 12) writes epb_verdict under the
// code of epb_queue, and then cannot read its own output.
import fs from 'node:fs';
import path from 'node:path';
import type { LabRun } from './index.ts';
import type { AttackResult } from './scenario.ts';

async function fetchCapture(run: LabRun, id: number): Promise<Buffer> {
  const res = await fetch(`${run.server.url}/api/v1/pcaps/${id}`, { headers: { authorization: `Bearer ${run.workspace.token}` } });
  if (res.status !== 200) throw new Error(`GET /api/v1/pcaps/${id} answered ${res.status}`);
  return Buffer.from(await res.arrayBuffer());
}

export interface SavedCapture {
  file: string;
  packets: number;
  parts: number;
}

/**
 * One pcapng file per incident in `dir` (ATTACK-incident-ID.pcapng), owned by
 * `owner` when given (the user who ran the demo through sudo); results
 * without a capture are left out.
 */
export async function saveCaptures(
  run: LabRun,
  results: readonly AttackResult[],
  dir: string,
  owner?: { uid: number; gid: number },
): Promise<Map<AttackResult, SavedCapture>> {
  const out = new Map<AttackResult, SavedCapture>();
  for (const r of results) {
    if (!r.captures?.length || r.incidentId === undefined) continue;
    fs.mkdirSync(dir, { recursive: true });
    // Never over a file of an earlier run (incident ids start again with each lab's database).
    let file = path.join(dir, `${r.attack}-incident-${r.incidentId}.pcapng`);
    for (let n = 2; fs.existsSync(file); n++) file = path.join(dir, `${r.attack}-incident-${r.incidentId}-${n}.pcapng`);
    const parts: Buffer[] = [];
    for (const c of r.captures) parts.push(await fetchCapture(run, c.id));
    fs.writeFileSync(file, Buffer.concat(parts), { flag: 'wx' });
    if (owner) fs.chownSync(file, owner.uid, owner.gid);
    out.set(r, { file, packets: r.captures.reduce((n, c) => n + c.packets, 0), parts: parts.length });
  }
  return out;
}
