// Arbitraries of what a careless or hostile client sends (fast-check): nasty
// values (text with NUL and lone surrogates, timestamps out of every range,
// numbers past 2^53, deep nesting, binary), valid bodies with one field
// replaced, dropped or added, query strings and path segments with raw and
// broken percent-encoding, and bodies in JSON, MessagePack or garbage.
import fc from 'fast-check';
import { pack } from '../../server/codec.ts';

const nastyText = fc.oneof(
  fc.constantFrom(
    '',
    '\u0000',
    'a\u0000b',
    '\uD800',
    'x\uDFFFy',
    '\uDBFF\uDFFF',
    '%00',
    "'; DROP TABLE nodes; --",
    'null',
    '1e999',
    '-0',
    '0000-01-01T00:00:00Z',
    '9999-12-31T23:59:59Z',
    '+275760-09-13T00:00:00.000Z',
    '2026-02-30T00:00:00Z',
    '2026-12-01T25:00:00Z',
    '1',
    'yesterday',
    '2026-12-01',
    '0x10',
    ' 7',
    '1e3',
    '999999999999999999999',
    '::ffff:127.0.0.1',
    '0.0.0.0/0',
    '198.18.0.1/8',
    '9999-12-31T23:59:59-01:00',
    '1970-01-01T00:00:00+14:00',
    '2026-12-01T09:00:00.123456789Z',
    '::ffff:198.18.0.5',
    'edge-1.example',
  ),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.string({ maxLength: 3000 }).map((s) => s.repeat(4)),
);

const nastyNumber = fc.oneof(
  fc.constantFrom(0, -1, 1.5, -0, 2 ** 31, 2 ** 32, 2 ** 53, 2 ** 63, 1e308, -1e308, 65_536, 86_401, 1e-50, 5e-324, 1.4e-45, 3.4e39),
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
);

/** Arrays or objects nested past any limit. */
const deep = fc.integer({ min: 15, max: 300 }).map((n) => {
  let v: unknown = 1;
  for (let i = 0; i < n; i++) v = i % 2 ? [v] : { a: v };
  return v;
});

/** Values JSON can carry, and the ones only MessagePack can (timestamps, binary, non-finite numbers). */
export const nastyValue = (msgpack: boolean): fc.Arbitrary<unknown> =>
  fc.oneof(
    nastyText,
    nastyNumber,
    fc.boolean(),
    fc.constant(null),
    deep,
    fc.jsonValue({ maxDepth: 4 }),
    fc.array(nastyText, { maxLength: 5 }),
    fc.dictionary(nastyText, nastyNumber, { maxKeys: 4 }),
    ...(msgpack
      ? [
          fc.date({ min: new Date(-8.64e15), max: new Date(8.64e15) }),
          fc.uint8Array({ maxLength: 16 }),
          fc.constantFrom(NaN, Infinity, -Infinity),
          fc.bigInt(),
        ]
      : []),
  );

/** A valid body with one field replaced, removed or added, or a different body altogether. */
export function mutated(valid: Record<string, unknown>, msgpack: boolean): fc.Arbitrary<unknown> {
  const keys = Object.keys(valid).length ? Object.keys(valid) : ['x'];
  return fc.oneof(
    { weight: 5, arbitrary: fc.tuple(fc.constantFrom(...keys), nastyValue(msgpack)).map(([k, v]) => ({ ...valid, [k]: v })) },
    { weight: 1, arbitrary: fc.constantFrom(...keys).map((k) => Object.fromEntries(Object.entries(valid).filter(([x]) => x !== k))) },
    { weight: 1, arbitrary: fc.tuple(nastyText, nastyValue(msgpack)).map(([k, v]) => ({ ...valid, [k]: v })) },
    { weight: 1, arbitrary: nastyValue(msgpack) },
    { weight: 1, arbitrary: fc.constant(valid) },
  );
}

/** Percent-encodes text byte by byte (lone surrogates as the bytes WTF-8 would give them). */
function encode(s: string): string {
  let out = '';
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (/[A-Za-z0-9._~-]/.test(ch)) out += ch;
    else if (c >= 0xd800 && c <= 0xdfff)
      out += `%${(0xe0 | (c >> 12)).toString(16)}%${(0x80 | ((c >> 6) & 63)).toString(16)}%${(0x80 | (c & 63)).toString(16)}`;
    else for (const b of Buffer.from(ch, 'utf8')) out += `%${b.toString(16).padStart(2, '0').toUpperCase()}`;
  }
  return out;
}

/** A path segment or query value as it goes on the wire: encoded, or raw and broken. */
export const wireText = fc.oneof(
  { weight: 4, arbitrary: nastyText.map(encode) },
  {
    weight: 1,
    arbitrary: fc.constantFrom('%', '%zz', '%E0%A4', '%C0%80', '%FF', '..', '%2e%2e', '1', '0', '-5', '01', '9007199254740993'),
  },
);

/** A query string over some known keys and some made up, keys repeated at times. */
export const query = (keys: string[]) =>
  fc
    .array(fc.tuple(fc.oneof(fc.constantFrom(...keys, 'token', '%74oken'), wireText), wireText), { maxLength: 4 })
    .map((pairs) => (pairs.length ? `?${pairs.map(([k, v]) => `${k}=${v}`).join('&')}` : ''));

/** A body on the wire: JSON, MessagePack, or bytes that are neither, with the content type to send. */
export function wireBody(valid: Record<string, unknown>): fc.Arbitrary<{ type: string; body: Buffer }> {
  return fc.oneof(
    {
      weight: 4,
      arbitrary: mutated(valid, false).map((v) => ({ type: 'application/json', body: Buffer.from(JSON.stringify(v) ?? 'null') })),
    },
    { weight: 3, arbitrary: mutated(valid, true).map((v) => ({ type: 'application/msgpack', body: safePack(v) })) },
    {
      weight: 1,
      arbitrary: fc
        .tuple(
          fc.constantFrom('application/json', 'application/msgpack', 'text/plain', 'multipart/form-data', ''),
          fc.uint8Array({ maxLength: 64 }),
        )
        .map(([type, b]) => ({ type, body: Buffer.from(b) })),
    },
  );
}

function safePack(v: unknown): Buffer {
  try {
    return pack(v);
  } catch {
    return Buffer.from([0xc1]); // never used by MessagePack: a body that does not decode
  }
}
