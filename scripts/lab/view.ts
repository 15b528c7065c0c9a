// The demo's live terminal view: what the kernel counts (through a read-only
// view of the agent's program), what the server holds (incident, its packet
// captures), the drop rules with their hit counts, and the legitimate client. Redraws in place
// on a terminal, one line a second otherwise.
import type { Snapshot } from '../../native/index.ts';
import type { LabRun } from './index.ts';
import type { AttackResult } from './scenario.ts';

const n = (v: number) => Math.round(v).toLocaleString('en');
const pct = (a: number, b: number) => (b > 0 ? `${Math.round((100 * a) / b)}%` : '-');

export class LiveView {
  private prev: { at: number; snap: Snapshot } | undefined;
  private lines = 0;
  private lastDraw = 0;
  private readonly tty: boolean;

  constructor(
    private readonly run: LabRun,
    private readonly out: NodeJS.WriteStream,
  ) {
    this.tty = Boolean(out.isTTY);
  }

  begin(title: string): void {
    this.lines = 0;
    this.out.write(`\n${title}\n`);
  }

  progress(r: AttackResult): void {
    const now = Date.now();
    if (now - this.lastDraw < (this.tty ? 250 : 1000)) return;
    this.lastDraw = now;
    const body = this.render(r, now);
    if (this.tty) {
      if (this.lines) this.out.write(`\x1b[${this.lines}A\x1b[J`);
      this.out.write(`${body.join('\n')}\n`);
      this.lines = body.length;
    } else {
      this.out.write(`  ${body[0]!.trim()} | ${body[2]!.trim()}\n`);
    }
  }

  end(r: AttackResult): void {
    this.progress(r);
    const ms = (v?: number) => (v === undefined ? 'never' : `${v} ms`);
    this.out.write(
      `  => ${r.family ?? 'no incident'}${r.severity ? ` / ${r.severity}` : ''}: incident at the server ${ms(r.toIncidentMs)} after onset, ` +
        `flood dropped after ${ms(r.toDropMs)}, ${n(r.droppedPackets)} packets dropped, resolved after ${ms(r.toResolvedMs)}` +
        `${r.notes.length ? ` (${r.notes.join('; ')})` : ''}\n`,
    );
  }

  private render(r: AttackResult, now: number): string[] {
    const snap = this.run.kernel.snapshot(0);
    const c = snap.counters;
    const prev = this.prev;
    this.prev = { at: now, snap };
    const per = (k: keyof typeof c) => (prev ? ((c[k] - prev.snap.counters[k]) * 1000) / Math.max(1, now - prev.at) : 0);
    const pps = per('packets'),
      bps = per('bytes') * 8;
    const rules = this.run.kernel.listRules().filter((x) => x.mode === 'drop');
    const bg = this.run.background.stats();
    const incident = r.incidentId === undefined ? 'none open' : `#${r.incidentId} ${r.family} / ${r.severity}, open at the server`;
    const parts = r.captures ?? [];
    const capture = parts.length
      ? `${parts.length} part${parts.length > 1 ? 's' : ''} at the server, ${n(parts.reduce((a, c) => a + c.packets, 0))} packets`
      : r.incidentId === undefined
        ? '-'
        : 'part 1 goes to the server about 5 s after the incident opens';
    return [
      `  traffic   ${n(pps).padStart(8)} pps  ${(bps / 1e6).toFixed(1).padStart(7)} Mbit/s   TCP ${pct(per('tcp'), pps)}  UDP ${pct(per('udp'), pps)}  ICMP ${pct(per('icmp'), pps)}`,
      `  verdicts  ${n(per('dropped')).padStart(8)} pps dropped in XDP, ${n(per('passed'))} pps passed`,
      `  incident  ${incident}`,
      `  capture   ${capture}`,
      `  rules     ${
        rules.length
          ? rules
              .map(
                (x) =>
                  `${x.address}/${x.prefixLen} ${x.protocol ?? 'any'}${x.port ? `:${x.port}` : ''}${x.icmpType !== undefined ? ` type ${x.icmpType}` : ''} ` +
                  `(${n(x.packets)} hits${x.expiresAt ? `, ${Math.max(0, Math.round((x.expiresAt - now) / 1000))} s left` : ''})`,
              )
              .join('; ')
          : 'none'
      }`,
      `  legit     ${n(bg.ok)} HTTP requests answered, ${n(bg.failed)} failed`,
    ];
  }
}
