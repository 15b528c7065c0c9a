// Capture uploads: the header checker on its own (pcap in both byte orders and
// with ns timestamps, pcapng, random bytes, truncation), then the upload route
// on both databases: stored, downloadable byte for byte, bad files and
// oversize uploads refused with nothing stored.
import crypto from 'node:crypto';
import test from 'ava';
import { MAX_PCAP_BYTES as MAX_PCAP } from '../../contract/limits.ts';
import { checkCapture, PcapCheck } from '../../server/pcap-check.ts';
import { pcap, pcapng } from '../helpers/captures.ts';
import { agentHeaders, bearer, request } from '../helpers/http.ts';
import { count, setup, withServers } from './_harness.ts';

test('checker: valid pcap (LE, BE, ns) and pcapng, also fed byte by byte', (t) => {
  t.deepEqual(checkCapture(pcap(5)), { format: 'pcap', packets: 5 });
  t.deepEqual(checkCapture(pcap(3, { be: true })), { format: 'pcap', packets: 3 });
  t.deepEqual(checkCapture(pcap(2, { nanos: true })), { format: 'pcap', packets: 2 });
  t.deepEqual(checkCapture(pcapng(4)), { format: 'pcapng', packets: 4 });
  for (const file of [pcap(3), pcapng(3)]) {
    const c = new PcapCheck();
    for (let i = 0; i < file.length; i++) t.is(c.push(file.subarray(i, i + 1)), null);
    t.like(c.end(), { packets: 3 });
  }
});

test('checker: random bytes, truncated records, bad headers, empty captures', (t) => {
  const err = (b: Buffer) => {
    const v = checkCapture(b);
    return 'error' in v ? v.error : 'accepted';
  };
  t.regex(err(crypto.randomBytes(4096)), /unknown magic/);
  t.regex(err(pcap(3).subarray(0, 24 + 16 + 60 + 10)), /truncated/);
  t.regex(err(pcap(3).subarray(0, 24 + 16 + 60 + 8)), /truncated/); // inside a record header
  t.regex(err(pcapng(3).subarray(0, pcapng(3).length - 2)), /truncated/);
  t.regex(err(pcap(0)), /no packets/);
  t.regex(err(Buffer.from([0xa1, 0xb2])), /too short|truncated/);
  const badLen = pcap(2);
  badLen.writeUInt32LE(70000, 24 + 8); // incl_len > snaplen
  t.regex(err(badLen), /exceeds snaplen/);
  const badTs = pcap(2);
  badTs.writeUInt32LE(2_000_000, 24 + 4);
  t.regex(err(badTs), /timestamp/);
  const badNg = pcapng(2);
  badNg.writeUInt32LE(13, badNg.length - 4); // trailing length of the last block
  t.regex(err(badNg), /trailing length/);
  const notFirst = pcapng(1).subarray(28); // starts with the IDB
  t.regex(err(notFirst), /unknown magic|section header/);
});

const each = withServers(test);

async function upload(
  url: string,
  node: { uuid: string; key: string },
  fields: Record<string, string>,
  file?: Buffer,
  name = 'capture.pcap',
) {
  const form = new FormData();
  for (const [k, v] of Object.entries(fields)) form.set(k, v);
  if (file) form.set('file', new Blob([file as unknown as BlobPart]), name);
  const res = await fetch(`${url}/api/v1/agent/pcap`, { method: 'POST', headers: agentHeaders(node), body: form });
  return { status: res.status, body: (await res.json()) as any };
}

async function openIncident(url: string, node: { uuid: string; key: string }) {
  const r = await request(url, 'POST', '/api/v1/agent/incident', {
    headers: agentHeaders(node),
    json: { attack_family: 'udp_flood', severity: 'high' },
  });
  return r.body.incident_id as number;
}

each('upload pcap and pcapng, then download them byte for byte', async (t, srv) => {
  const { ws, node } = await setup(srv);
  const incident = await openIncident(srv.url, node);
  for (const file of [pcap(50, { size: 1500 }), pcapng(20)]) {
    const up = await upload(srv.url, node, { incident_id: String(incident) }, file, '../../etc/passwd');
    t.is(up.status, 201, JSON.stringify(up.body));
    t.is(up.body.size, file.length);
    t.regex(up.body.uuid, /^[0-9a-f-]{36}$/);
    const down = await request(srv.url, 'GET', `/api/v1/pcaps/${up.body.uuid}`, { headers: bearer(ws.token) });
    t.is(down.status, 200);
    t.true(Buffer.compare(down.raw, file) === 0);
    t.regex(down.headers.get('content-disposition')!, new RegExp(`incident-${incident}-${up.body.uuid}\\.pcap`));
  }
  // A 3 MB capture spans several stored chunks.
  const big = pcap(2000, { size: 1500 });
  const up = await upload(srv.url, node, { incident_id: String(incident) }, big);
  const down = await request(srv.url, 'GET', `/api/v1/pcaps/${up.body.pcap_id}`, { headers: bearer(ws.token) });
  t.is(crypto.createHash('sha256').update(down.raw).digest('hex'), up.body.sha256);
  const inc = await request(srv.url, 'GET', `/api/v1/incidents/${incident}`, { headers: bearer(ws.token) });
  t.is(inc.body.pcaps.length, 3);
  t.true(inc.body.timeline.some((e: { kind: string }) => e.kind === 'pcap'));
});

each('refused uploads: random bytes, truncated, missing fields, foreign incident, oversize', async (t, srv) => {
  const { ws, node } = await setup(srv);
  const other = await setup(srv, 'other');
  const incident = await openIncident(srv.url, node);
  const foreign = await openIncident(srv.url, other.node);
  const id = { incident_id: String(incident) };
  const cases: [string, Record<string, string>, Buffer | undefined, number, RegExp][] = [
    ['random bytes', id, crypto.randomBytes(10_000), 400, /^file: not a pcap/],
    ['truncated record', id, pcap(10).subarray(0, 500), 400, /^file: truncated/],
    ['no file', id, undefined, 400, /^file: missing/],
    ['no incident_id', {}, pcap(1), 400, /^incident_id: required/],
    ['bad incident_id', { incident_id: '1; drop' }, pcap(1), 400, /^incident_id:/],
    ['incident of another node', { incident_id: String(foreign) }, pcap(1), 404, /incident not found/],
  ];
  for (const [what, fields, file, status, msg] of cases) {
    const r = await upload(srv.url, node, fields, file);
    t.is(r.status, status, what);
    t.regex(r.body.error.message, msg, what);
  }
  // Oversize, declared: refused from Content-Length before reading.
  const huge = pcap(Math.ceil(MAX_PCAP / 1516) + 10, { size: 1500 });
  t.true(huge.length > MAX_PCAP);
  const declared = await upload(srv.url, node, id, huge);
  t.is(declared.status, 413);
  // Oversize, streamed without Content-Length: refused once 50 MB have passed.
  const boundary = 'bwtestboundary';
  const head = Buffer.from(
    `--${boundary}\r\nContent-Disposition: form-data; name="incident_id"\r\n\r\n${incident}\r\n--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="x.pcap"\r\nContent-Type: application/octet-stream\r\n\r\n`,
  );
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
  const parts = [head, huge, tail];
  const stream = new ReadableStream({
    pull(c) {
      const p = parts.shift();
      if (!p) return c.close();
      for (let o = 0; o < p.length; o += 1 << 20) c.enqueue(p.subarray(o, o + (1 << 20)));
    },
  });
  const res = await fetch(`${srv.url}/api/v1/agent/pcap`, {
    method: 'POST',
    headers: { ...agentHeaders(node), 'content-type': `multipart/form-data; boundary=${boundary}` },
    body: stream,
    duplex: 'half',
  } as RequestInit).catch((e: Error) => ({ status: -1, json: async () => ({ e: e.message }) }));
  t.is(res.status, 413);
  t.is(await count(srv, 'SELECT count(*) FROM pcaps p JOIN incidents i ON i.id = p.incident_id WHERE i.node_id = $1', [node.id]), 0);
  t.is((await request(srv.url, 'GET', '/api/v1/pcaps/1', { headers: bearer(other.ws.token) })).status, 404);
  void ws;
});

each.serial('a capture whose upload never finished is invisible, and maintenance removes it an hour on', async (t, srv) => {
  const { ws, node } = await setup(srv);
  const {
    rows: [inc],
  } = await srv.db.query(`INSERT INTO incidents (node_id, attack_family, severity) VALUES ($1, 'udp_flood', 'low') RETURNING id`, [
    node.id,
  ]);
  const add = async (ageMinutes: number) => {
    const {
      rows: [p],
    } = await srv.db.query(
      `INSERT INTO pcaps (uuid, incident_id, format, size, sha256, packets, complete, created_at)
       VALUES (gen_random_uuid(), $1, 'pcap', 4, 'x', 1, false, now() - make_interval(mins => $2)) RETURNING id`,
      [inc.id, ageMinutes],
    );
    await srv.db.query(`INSERT INTO pcap_chunks (pcap_id, seq, data) VALUES ($1, 0, '\\x01020304')`, [p.id]);
    return p.id as number;
  };
  const old = await add(90),
    fresh = await add(5);
  for (const id of [old, fresh]) t.is((await request(srv.url, 'GET', `/api/v1/pcaps/${id}`, { headers: bearer(ws.token) })).status, 404);
  t.deepEqual((await request(srv.url, 'GET', `/api/v1/incidents/${inc.id}`, { headers: bearer(ws.token) })).body.pcaps, []);
  t.like(await srv.runMaintenance(), { ran: true, abandonedPcaps: 1 });
  t.is(await count(srv, 'SELECT count(*) FROM pcaps WHERE id = $1', [old]), 0);
  t.is(await count(srv, 'SELECT count(*) FROM pcap_chunks WHERE pcap_id = $1', [old]), 0, 'its chunks go with it');
  t.is(await count(srv, 'SELECT count(*) FROM pcaps WHERE id = $1', [fresh]), 1, 'one still uploading stays');
});
