// The hand-written parts of the hot metrics route, without a database: Accept
// negotiation (must agree with Koa's ctx.accepts, which the other routes used
// before), Content-Type, and the sample check with its field-naming messages.

import type { IncomingMessage } from 'node:http';
import accepts from 'accepts';
import test from 'ava';
import { MAX_SAMPLES_PER_REQUEST as MAX_BATCH } from '../../contract/limits.ts';
import { bodyFormat, replyFormat } from '../../server/codec.ts';
import { HttpError } from '../../server/errors.ts';
import { parseSamples, toRows } from '../../server/samples.ts';

const offered = ['application/json', 'application/msgpack', 'application/x-msgpack', 'application/vnd.msgpack'];

test("replyFormat agrees with Koa's negotiation (accepts / negotiator)", (t) => {
  const headers = [
    undefined,
    '',
    '*/*',
    'application/json',
    'application/msgpack',
    'application/x-msgpack',
    'application/vnd.msgpack',
    'application/msgpack, application/json;q=0.5',
    'application/json, application/msgpack',
    'application/msgpack, application/json',
    'application/json;q=0.1, application/msgpack;q=0.2',
    'application/*',
    'application/*, application/msgpack;q=0.9',
    'text/html',
    'text/html, */*;q=0.1',
    'application/msgpack;q=0',
    'application/json;q=0, */*',
    'APPLICATION/MSGPACK',
    'application/json; charset=utf-8',
    'application/msgpack; foo=bar, application/json;q=0.3',
    'application/msgpack;q=abc',
    'application/json;q=0.5, application/vnd.msgpack;q=0.5',
    '*/*;q=0.8, application/msgpack',
    'garbage',
    ',,,',
    'application/msgpack;q="0.4", application/json;q=0.3',
    '*/msgpack',
    'application/msgpack;level=*',
  ];
  for (const h of headers) {
    const koa = accepts({ headers: h === undefined ? {} : { accept: h } } as IncomingMessage).types(offered);
    const expected = koa && koa !== 'application/json' ? 'msgpack' : 'json';
    t.is(replyFormat(h), expected, `Accept: ${h}`);
  }
});

test('bodyFormat: JSON (also without a type), the MessagePack types, else 415', (t) => {
  t.is(bodyFormat(undefined), 'json');
  t.is(bodyFormat('application/json; charset=utf-8'), 'json');
  t.is(bodyFormat('Application/MsgPack'), 'msgpack');
  t.is(bodyFormat('application/x-msgpack'), 'msgpack');
  const e = t.throws(() => bodyFormat('text/plain'), { instanceOf: HttpError });
  t.is(e.status, 415);
});

test('parseSamples: one sample, an array, { samples }; messages start with the field', (t) => {
  const when = new Date(Math.floor(Date.now() / 1000) * 1000 - 60_000).toISOString().replace('.000Z', 'Z');
  const s = { pps: 1, bps: 2, tcp_pct: 50, udp_pct: 49.5, icmp_pct: 0.5, conn_count: 3, recorded_at: when, extra: 'ignored' };
  t.deepEqual(parseSamples(s), [{ pps: 1, bps: 2, tcp_pct: 50, udp_pct: 49.5, icmp_pct: 0.5, conn_count: 3, recorded_at: new Date(when) }]);
  t.is(parseSamples([s, { pps: 0, bps: 0 }]).length, 2);
  t.deepEqual(parseSamples({ samples: [{ pps: 5, bps: 6 }] }), [{ pps: 5, bps: 6 }]);
  const at = new Date();
  t.deepEqual(parseSamples({ pps: 5, bps: 6, recorded_at: at })[0]!.recorded_at, at); // a MessagePack timestamp
  const message = (body: unknown) => {
    const e = t.throws(() => parseSamples(body), { instanceOf: HttpError });
    t.is(e.code, 'validation_failed');
    return e.message;
  };
  const cases: [unknown, string][] = [
    [{ pps: 'many', bps: 1 }, 'pps: '],
    [{ pps: 1 }, 'bps: '],
    [{ pps: 1, bps: 1, tcp_pct: 150 }, 'tcp_pct: '],
    [{ pps: -1, bps: 1 }, 'pps: '],
    [{ pps: 1.5, bps: 1 }, 'pps: '],
    [{ pps: 2 ** 53, bps: 1 }, 'pps: '],
    [{ pps: 1, bps: 1, udp_pct: null }, 'udp_pct: '],
    [{ pps: 1, bps: 1, icmp_pct: '5' }, 'icmp_pct: '],
    [{ pps: 1, bps: 1, conn_count: -2 }, 'conn_count: '],
    [{ pps: 1, bps: 1, recorded_at: 'yesterday' }, 'recorded_at: '],
    [{ pps: 1, bps: 1, recorded_at: 'x'.repeat(41) }, 'recorded_at: '],
    [{ pps: 1, bps: 1, recorded_at: 12 }, 'recorded_at: '],
    // strict ISO 8601, and within the window around the server's clock (contract/limits.ts)
    [{ pps: 1, bps: 1, recorded_at: '1' }, 'recorded_at: '],
    [{ pps: 1, bps: 1, recorded_at: '2026-02-30T00:00:00Z' }, 'recorded_at: '],
    [{ pps: 1, bps: 1, recorded_at: '2026-12-01 09:00:00Z' }, 'recorded_at: '],
    [{ pps: 1, bps: 1, recorded_at: '9999-12-31T00:00:00Z' }, 'recorded_at: '],
    [{ pps: 1, bps: 1, recorded_at: new Date(Date.now() + 10 * 60_000).toISOString() }, 'recorded_at: '],
    [{ pps: 1, bps: 1, recorded_at: new Date(Date.now() - 8 * 86_400_000).toISOString() }, 'recorded_at: '],
    [{ pps: 1, bps: 1, recorded_at: new Date(Date.UTC(2100, 0, 1)) }, 'recorded_at: '],
    [{ pps: 2 ** 41, bps: 1 }, 'pps: '],
    [
      [
        { pps: 1, bps: 1 },
        { pps: 1, bps: 'x' },
      ],
      '1.bps: ',
    ],
    [[{ pps: 1, bps: 1 }, 7], '1: '],
    [{ samples: [{ pps: 1, bps: 1 }, { bps: 1 }] }, 'samples.1.pps: '],
    [{ samples: 'no' }, 'samples: '],
    [{ samples: [] }, 'samples: '],
    [[], 'body: '],
    [null, 'body: '],
    [42, 'body: '],
    [Array.from({ length: MAX_BATCH + 1 }, () => ({ pps: 1, bps: 1 })), 'body: '],
  ];
  for (const [body, start] of cases) {
    const m = message(body);
    t.true(m.startsWith(start), `${JSON.stringify(body)?.slice(0, 80)} -> ${m}`);
  }
  // At most three problems are named.
  t.is(message([{}, {}]).split('; ').length, 3);
});

test('toRows: recorded_at given, or distinct times from the arrival on', (t) => {
  const now = Date.UTC(2030, 0, 1);
  const rows = toRows(
    7,
    [
      { pps: 1, bps: 2 },
      { pps: 3, bps: 4, recorded_at: new Date(5) },
      { pps: 5, bps: 6 },
    ],
    now,
  );
  t.deepEqual(
    rows.map((r) => r.recorded_at.getTime()),
    [now, 5, now + 2],
  );
  t.like(rows[0], { node_id: 7, pps: 1, bps: 2, tcp_pct: null, conn_count: null });
});
