// Polls the victim's interface counter and the IP layer's InReceives every
// few milliseconds through /proc/PID/net of a process living in the victim
// namespace (the lab's HTTP service), keeping the last minutes of readings
// for scripts/lab/timing.ts. The readings are taken in a worker thread, on
// its own event loop: the lab's server runs in the main thread, and when a
// response policy makes and pushes its rules at an onset, a main-thread
// timer stalled for 100-300 ms, and the onset was read that much late (an
// incident "before the onset"). The worker hands its readings over in
// batches; each keeps the time it was taken.
import { Worker } from 'node:worker_threads';
import type { Point } from './timing.ts';

/** The worker, plain JavaScript (an eval'd worker runs no TypeScript): reads, batches, posts. */
const WORKER = `
const fs = require('node:fs');
const { parentPort, workerData: { netDir, iface, everyMs } } = require('node:worker_threads');
function read() {
  const dev = fs.readFileSync(netDir + '/dev', 'utf8');
  const line = dev.split('\\n').find((l) => l.trimStart().startsWith(iface + ':'));
  if (!line) throw new Error('interface ' + iface + ' is not in ' + netDir + '/dev');
  const rx = Number(line.split(':')[1].trim().split(/\\s+/)[1]);
  const snmp = fs.readFileSync(netDir + '/snmp', 'utf8').split('\\n').filter((l) => l.startsWith('Ip:'));
  const names = snmp[0].split(/\\s+/), values = snmp[1].split(/\\s+/);
  return { t: Date.now(), rx, ipIn: Number(values[names.indexOf('InReceives')]) };
}
let batch = [];
(function tick() {
  try { batch.push(read()); } catch { /* the namespace is going away */ }
  setTimeout(tick, everyMs);
})();
setInterval(() => { if (batch.length) { parentPort.postMessage(batch); batch = []; } }, 20);
`;

export class Observer {
  readonly series: Point[] = [];
  private worker: Worker | undefined;

  constructor(
    private readonly netDir: string,
    private readonly iface: string,
    private readonly everyMs = 5,
    private readonly keepMs = 300_000,
  ) {}

  start(): this {
    this.worker = new Worker(WORKER, { eval: true, workerData: { netDir: this.netDir, iface: this.iface, everyMs: this.everyMs } });
    this.worker.unref();
    this.worker.on('message', (points: Point[]) => {
      this.series.push(...points);
      const now = Date.now();
      if (this.series[0]!.t < now - this.keepMs - 10_000) {
        const keepFrom = this.series.findIndex((p) => p.t >= now - this.keepMs);
        this.series.splice(0, Math.max(0, keepFrom));
      }
    });
    this.worker.on('error', () => {}); // the namespace went away: no more readings
    return this;
  }

  stop(): void {
    void this.worker?.terminate();
    this.worker = undefined;
  }
}
