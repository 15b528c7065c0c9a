// Multipart upload of a capture (busboy): the file streams to a private temp
// file while PcapCheck reads its headers, so a bad or oversized upload is
// refused without being kept in memory, and only a checked file reaches the
// database.
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import busboy from 'busboy';
import type { Context } from 'koa';
import { MAX_PCAP_BYTES } from '../contract/limits.ts';
import { badRequest, payloadTooLarge, unsupportedMediaType, validationFailed } from './errors.ts';
import { type Format, PcapCheck } from './pcap-check.ts';

export interface Upload {
  fields: Record<string, string>;
  file: string;
  format: Format;
  packets: number;
  size: number;
  sha256: string;
  cleanup(): void;
}

export async function receivePcap(ctx: Context, maxSize = MAX_PCAP_BYTES): Promise<Upload> {
  const type = ctx.get('content-type');
  if (!type.toLowerCase().startsWith('multipart/form-data')) throw unsupportedMediaType(type.split(';')[0] ?? '', ['multipart/form-data']);
  if (Number(ctx.get('content-length') || 0) > maxSize + 64 * 1024) throw payloadTooLarge(maxSize);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bw-pcap-'));
  const cleanup = () => fs.rmSync(dir, { recursive: true, force: true });
  try {
    return { ...(await parse(ctx, dir, maxSize)), cleanup };
  } catch (err) {
    cleanup();
    throw err;
  }
}

async function parse(ctx: Context, dir: string, maxSize: number) {
  let bb: busboy.Busboy;
  try {
    bb = busboy({ headers: ctx.req.headers, limits: { fileSize: maxSize, files: 1, fields: 10, fieldSize: 1024, parts: 12 } });
  } catch (err) {
    // A multipart type without a boundary, or one busboy cannot read.
    throw badRequest(`malformed multipart request: ${(err as Error).message}`);
  }
  const fields: Record<string, string> = {};
  const file = path.join(dir, 'upload');
  let fileDone: Promise<{ format: Format; packets: number; size: number; sha256: string }> | undefined;
  let failure: Error | undefined;

  bb.on('field', (name, value) => {
    fields[name] = value;
  });
  bb.on('file', (name, stream) => {
    if (name !== 'file' || fileDone) {
      stream.resume();
      failure ??= validationFailed(`file: unexpected file field "${name}"`);
      return;
    }
    const check = new PcapCheck();
    const hash = crypto.createHash('sha256');
    const out = fs.createWriteStream(file, { mode: 0o600 });
    let size = 0;
    let tooBig = false;
    let bad: Error | undefined;
    // After a failure the rest of the part is read and dropped, so that busboy
    // (and the request) run to their end and the reply can be sent.
    const stop = (err: Error) => {
      bad ??= err;
      out.destroy();
      stream.resume();
    };
    stream.on('limit', () => {
      tooBig = true;
    });
    stream.on('data', (chunk: Buffer) => {
      if (bad) return;
      size += chunk.length;
      hash.update(chunk);
      const err = check.push(chunk);
      if (err) return stop(validationFailed(`file: ${err}`));
      if (!out.write(chunk)) {
        stream.pause();
        out.once('drain', () => stream.resume());
      }
    });
    out.on('error', (err) => stop(err));
    fileDone = new Promise((resolve, reject) => {
      stream.on('error', (err) => reject(bad ?? err));
      stream.on('end', () => {
        if (tooBig) return reject(payloadTooLarge(maxSize));
        if (bad) return reject(bad);
        const v = check.end();
        if ('error' in v) return reject(validationFailed(`file: ${v.error}`));
        // Resolved once every byte is on disk (a full disk fails the upload, not a stored capture).
        out.end();
        out.once('finish', () => resolve({ ...v, size, sha256: hash.digest('hex') }));
        out.once('error', (err) => reject(bad ?? err));
      });
    });
    fileDone.catch((err) => {
      failure ??= err;
    });
  });
  bb.on('partsLimit', () => {
    failure ??= badRequest('too many form parts');
  });
  bb.on('filesLimit', () => {
    failure ??= validationFailed('file: only one file per upload');
  });

  try {
    await pipeline(ctx.req, bb);
  } catch (err) {
    throw failure ?? badRequest(`malformed multipart body: ${(err as Error).message}`);
  }
  const result = fileDone
    ? await fileDone.catch((err) => {
        throw failure ?? err;
      })
    : undefined;
  if (failure) throw failure;
  if (!result) throw validationFailed('file: missing (a multipart field named "file" is required)');
  return { fields, file, ...result };
}
