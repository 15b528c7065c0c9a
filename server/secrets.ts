// Node keys and user tokens: random, shown once, stored as sha256 only.
// They carry 256 random bits, so a fast hash is enough (no password
// stretching needed), and comparing hashes of equal length in constant time
// makes the comparison independent of the presented key's length.
import crypto from 'node:crypto';

export const newSecret = () => crypto.randomBytes(32).toString('base64url');
export const hashSecret = (secret: string) => crypto.createHash('sha256').update(secret, 'utf8').digest();

/** Constant-time: hashes have the same length whatever the presented secret's length. */
export function secretMatches(presented: string, storedHash: Buffer | null | undefined): boolean {
  const h = hashSecret(presented);
  const ok = crypto.timingSafeEqual(h, storedHash && storedHash.length === h.length ? storedHash : DUMMY);
  return ok && !!storedHash && storedHash.length === h.length;
}
const DUMMY = hashSecret('no such credential');

/** A node key is just a secret; a user token names its row: "bwt_<public id>_<secret>". */
export function newToken(): { publicId: string; secret: string; token: string } {
  const publicId = crypto.randomBytes(9).toString('base64url').replace(/[-_]/g, 'x');
  const secret = newSecret();
  return { publicId, secret, token: `bwt_${publicId}_${secret}` };
}

export function splitToken(token: string): { publicId: string; secret: string } | null {
  const m = /^bwt_([A-Za-z0-9]{12})_([A-Za-z0-9_-]{20,100})$/.exec(token);
  return m ? { publicId: m[1]!, secret: m[2]! } : null;
}

export function bearer(header: string | undefined): string | null {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  return m ? m[1]! : null;
}
