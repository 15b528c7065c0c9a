/**
 * The building blocks of every schema of the wire contract (zod): text that
 * PostgreSQL can store, counts, strict ISO 8601 timestamps, decimal ids,
 * addresses. Each refusal says what was expected.
 */
import { z } from 'zod';
import { MAX_YEAR, MIN_YEAR } from '../limits.ts';
import { parseIPv4, parseIPv6 } from '../net/address.ts';
import { textProblem } from './json.ts';

// A missing field says so: "pps: required", not "expected number, received undefined".
z.config({ customError: (iss) => (iss.code === 'invalid_type' && iss.input === undefined ? 'required' : undefined) });

/** Text of at most `max` characters, without NUL or lone surrogates. */
export const text = (max: number) =>
  z
    .string()
    .max(max)
    .superRefine((s, ctx) => {
      const p = textProblem(s);
      if (p) ctx.addIssue({ code: 'custom', message: p });
    });

export const count = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);
export const bounded = (max: number) => z.number().int().nonnegative().max(max);
/** A percentage, kept to four decimals (a value like 1e-50 would not fit PostgreSQL's real). */
export const pct = z
  .number()
  .min(0)
  .max(100)
  .transform((x) => Math.round(x * 1e4) / 1e4);
export const finite = z.number();

/** A positive integer id in a JSON body. */
export const id = z.number().int().positive().max(Number.MAX_SAFE_INTEGER);
/** A positive integer id in a path or query: decimal digits only (no "1e3", "0x10", " 7", ""). */
export const idText = z
  .string()
  .regex(/^[1-9][0-9]{0,15}$/, 'expected a positive decimal integer')
  .transform(Number)
  .refine(Number.isSafeInteger, 'expected a positive decimal integer');
/** A bounded integer in a query string, decimal digits only. */
export const intText = (min: number, max: number) =>
  z
    .string()
    .regex(/^(0|[1-9][0-9]{0,15})$/, 'expected a decimal integer')
    .transform(Number)
    .refine((n) => n >= min && n <= max, `expected an integer from ${min} to ${max}`);

const ISO = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?(Z|[+-](\d{2}):(\d{2}))$/;
const DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** Why text is not a strict ISO 8601 date-time (RFC 3339: "2026-12-01T09:12:29.503Z", "...+01:00"), or null. */
export function isoProblem(s: string): string | null {
  const m = ISO.exec(s);
  if (!m) return 'expected an ISO 8601 timestamp such as 2026-12-01T09:12:29.503Z';
  const [y, mo, d, h, mi, sec] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  const leap = y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0);
  const days = mo === 2 && leap ? 29 : DAYS[mo - 1];
  if (days === undefined || d < 1 || d > days) return `${s.slice(0, 10)} is not a date of the calendar`;
  if (h > 23 || mi > 59 || sec > 59 || Number(m[9] ?? 0) > 23 || Number(m[10] ?? 0) > 59) return `${s} is not a time of day`;
  // The year as written, and in UTC after the offset (9999-12-31T23:59:59-01:00 is in 10000).
  const utc = new Date(s).getUTCFullYear();
  if (y < MIN_YEAR || y > MAX_YEAR || utc < MIN_YEAR || utc > MAX_YEAR)
    return `the year must be from ${MIN_YEAR} to ${MAX_YEAR} (in UTC too)`;
  return null;
}

/** A timestamp: strict ISO 8601 text, or (MessagePack) a timestamp value; out: a Date. */
export const timestamp = z
  .custom<string | Date>(() => true)
  .transform((v, ctx): Date => {
    if (v instanceof Date) {
      const y = v.getUTCFullYear();
      if (!(y >= MIN_YEAR && y <= MAX_YEAR)) ctx.addIssue({ code: 'custom', message: `the year must be from ${MIN_YEAR} to ${MAX_YEAR}` });
      return v;
    }
    const p = typeof v === 'string' ? isoProblem(v) : 'expected an ISO 8601 timestamp such as 2026-12-01T09:12:29.503Z';
    if (p) {
      ctx.addIssue({ code: 'custom', message: p });
      return z.NEVER;
    }
    return new Date(v as string);
  });

/** An IPv4 or IPv6 address in text (no prefix length); IPv4-mapped IPv6 is refused (write the IPv4 address). */
export const address = z
  .string()
  .max(45)
  .superRefine((s, ctx) => {
    const bytes = s.includes(':') ? parseIPv6(s) : parseIPv4(s);
    if (!bytes) ctx.addIssue({ code: 'custom', message: 'expected an IPv4 or IPv6 address' });
    else if (bytes.length === 16 && bytes.slice(0, 12).join() === '0,0,0,0,0,0,0,0,0,0,255,255') {
      ctx.addIssue({ code: 'custom', message: `${s} is IPv4-mapped: write the IPv4 address` });
    }
  });
