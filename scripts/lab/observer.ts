// Polls the victim's interface counter and the IP layer's InReceives every
// few milliseconds through /proc/PID/net of a process living in the victim
// namespace (the lab's HTTP service), keeping the last minutes of readings
// for scripts/lab/timing.ts.
import fs from 'node:fs';
import type { Point } from './timing.ts';

export function readCounters(netDir: string, iface: string): { rx: number; ipIn: number } {
  const dev = fs.readFileSync(`${netDir}/dev`, 'utf8');
  const line = dev.split('\n').find((l) => l.trimStart().startsWith(`${iface}:`));
  if (!line) throw new Error(`interface ${iface} is not in ${netDir}/dev`);
  const rx = Number(line.split(':')[1]!.trim().split(/\s+/)[1]);
  const snmp = fs
    .readFileSync(`${netDir}/snmp`, 'utf8')
    .split('\n')
    .filter((l) => l.startsWith('Ip:'));
  const names = snmp[0]!.split(/\s+/),
    values = snmp[1]!.split(/\s+/);
  return { rx, ipIn: Number(values[names.indexOf('InReceives')]) };
}

export class Observer {
  readonly series: Point[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly netDir: string,
    private readonly iface: string,
    private readonly everyMs = 5,
    private readonly keepMs = 300_000,
  ) {}

  start(): this {
    const tick = () => {
      try {
        this.series.push({ t: Date.now(), ...readCounters(this.netDir, this.iface) });
      } catch {
        /* the namespace is going away */
      }
      if (this.series.length && this.series[0]!.t < Date.now() - this.keepMs - 10_000) {
        const keepFrom = this.series.findIndex((p) => p.t >= Date.now() - this.keepMs);
        this.series.splice(0, Math.max(0, keepFrom));
      }
      this.timer = setTimeout(tick, this.everyMs);
    };
    tick();
    return this;
  }

  stop(): void {
    clearTimeout(this.timer);
  }
}
