/**
 * A reader of Server-Sent Events (the WHATWG text/event-stream format) as
 * the push channel needs it: `event:` and `data:` fields (data lines joined
 * by newlines), a blank line dispatches, lines starting with ':' are
 * comments, CR LF, CR or LF end a line, chunks may split anywhere (also
 * inside a UTF-8 character). `id:` and `retry:` are read and ignored: each
 * event of the channel is a whole state, and reconnection is the agent's.
 */
export interface SseEvent {
  event: string;
  data: string;
}

/** Bytes of one event past which the stream is refused (a config is a few KB). */
export const MAX_EVENT_BYTES = 4 << 20;

export class SseReader {
  private readonly decoder = new TextDecoder();
  private buf = '';
  private event = '';
  private data: string[] = [];
  private size = 0;

  /** Feeds a chunk; returns the events it completed. `onComment` for each comment line (liveness). */
  push(chunk: Uint8Array, onComment?: () => void): SseEvent[] {
    this.buf += this.decoder.decode(chunk, { stream: true });
    const out: SseEvent[] = [];
    for (;;) {
      const m = /\r\n|\r|\n/.exec(this.buf);
      // A lone CR at the end may be the first half of CR LF: wait for more.
      if (!m || (m[0] === '\r' && m.index === this.buf.length - 1)) break;
      const line = this.buf.slice(0, m.index);
      this.buf = this.buf.slice(m.index + m[0].length);
      this.line(line, out, onComment);
    }
    this.size = this.buf.length + this.data.reduce((n, d) => n + d.length, 0);
    if (this.size > MAX_EVENT_BYTES) throw new Error(`an event over ${MAX_EVENT_BYTES} bytes`);
    return out;
  }

  private line(line: string, out: SseEvent[], onComment?: () => void): void {
    if (line === '') {
      if (this.data.length) out.push({ event: this.event || 'message', data: this.data.join('\n') });
      this.event = '';
      this.data = [];
      return;
    }
    if (line.startsWith(':')) {
      onComment?.();
      return;
    }
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'event') this.event = value;
    else if (field === 'data') this.data.push(value);
  }
}
