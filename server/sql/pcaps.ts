// Captures, stored in the database in 1 MiB chunks under a server-chosen UUID.
import crypto from 'node:crypto';
import fs from 'node:fs';
import type pg from 'pg';
import type { Queryable } from '../db.ts';
import type { Format } from '../pcap-check.ts';

export const CHUNK = 1024 * 1024;

/** Copies a checked capture from `file` into the database. Call inside a transaction. */
export async function storePcap(
  client: pg.PoolClient,
  incidentId: number,
  file: string,
  meta: { format: Format; size: number; sha256: string; packets: number },
): Promise<{ id: number; uuid: string }> {
  const uuid = crypto.randomUUID();
  const { rows } = await client.query<{ id: number }>(
    'INSERT INTO pcaps (uuid, incident_id, format, size, sha256, packets) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id',
    [uuid, incidentId, meta.format, meta.size, meta.sha256, meta.packets],
  );
  const id = rows[0]!.id;
  const fd = fs.openSync(file, 'r');
  try {
    const buf = Buffer.alloc(CHUNK);
    for (let seq = 0; ; seq++) {
      const n = fs.readSync(fd, buf, 0, CHUNK, null);
      if (n === 0) break;
      await client.query('INSERT INTO pcap_chunks (pcap_id, seq, data) VALUES ($1, $2, $3)', [id, seq, buf.subarray(0, n)]);
    }
  } finally {
    fs.closeSync(fd);
  }
  return { id, uuid };
}

export interface PcapMeta { id: number; uuid: string; incident_id: number; format: Format; size: number; sha256: string }

/** A capture of the workspace, by numeric id or UUID. */
export async function findPcap(db: Queryable, workspaceId: number, idOrUuid: string): Promise<PcapMeta | undefined> {
  const byId = /^\d+$/.test(idOrUuid);
  const { rows } = await db.query<PcapMeta>(
    `SELECT p.id, p.uuid, p.incident_id, p.format, p.size, p.sha256 FROM pcaps p
     JOIN incidents i ON i.id = p.incident_id JOIN nodes n ON n.id = i.node_id
     WHERE n.workspace_id = $1 AND ${byId ? 'p.id = $2::bigint' : 'p.uuid::text = $2'}`,
    [workspaceId, idOrUuid],
  );
  return rows[0];
}

/** The chunks of a capture, one query each, so memory stays at one chunk. */
export async function* pcapChunks(db: Queryable, pcapId: number): AsyncGenerator<Buffer> {
  for (let seq = 0; ; seq++) {
    const { rows } = await db.query<{ data: Buffer }>('SELECT data FROM pcap_chunks WHERE pcap_id = $1 AND seq = $2', [pcapId, seq]);
    if (!rows[0]) return;
    yield rows[0].data;
  }
}
