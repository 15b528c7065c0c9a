// The push channel's Server-Sent Events reader: events, comments, every
// line ending, chunks split anywhere (inside CR LF and inside a UTF-8
// character), and the bound on one event.
import test from 'ava';
import { MAX_EVENT_BYTES, SseReader } from '../../../agent/sse.ts';

const enc = new TextEncoder();

test('events and comments', (t) => {
  const r = new SseReader();
  let comments = 0;
  const evs = r.push(enc.encode(': hello\n\nevent: config\ndata: {"a":1}\n\ndata: x\ndata: y\nid: 4\nretry: 10\n\n'), () => comments++);
  t.deepEqual(evs, [
    { event: 'config', data: '{"a":1}' },
    { event: 'message', data: 'x\ny' },
  ]);
  t.is(comments, 1);
});

test('CR LF, CR and LF; a chunk split anywhere gives the same events', (t) => {
  const text = 'event: config\r\ndata: {"name":"Zürich ✓"}\r\n\r\nevent: config\rdata: 2\r\revent: config\ndata:3\n\n';
  const want = [
    { event: 'config', data: '{"name":"Zürich ✓"}' },
    { event: 'config', data: '2' },
    { event: 'config', data: '3' },
  ];
  const bytes = enc.encode(text);
  t.deepEqual(new SseReader().push(bytes), want);
  for (let cut = 1; cut < bytes.length; cut++) {
    const r = new SseReader();
    t.deepEqual([...r.push(bytes.subarray(0, cut)), ...r.push(bytes.subarray(cut))], want, `cut at ${cut}`);
  }
});

test('an event without data is not dispatched; a field without colon is a name', (t) => {
  t.deepEqual(new SseReader().push(enc.encode('event: config\n\ndata\n\n')), [{ event: 'message', data: '' }]);
});

test('one event over the bound is refused', (t) => {
  const r = new SseReader();
  t.throws(() => r.push(enc.encode(`data: ${'x'.repeat(MAX_EVENT_BYTES + 1)}`)), { message: /over/ });
});
