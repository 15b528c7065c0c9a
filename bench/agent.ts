// The agent's own cost: CPU (share of one core, from /proc/PID/stat) and
// memory (VmRSS, VmHWM) of an agent process attached to the victim side of
// a quiet lab (scripts/lab), reporting to the lab's server (embedded database):
//   idle: no traffic, the agent ticking at 100 ms, metrics every second;
//   slow flood: a spoofed UDP flood at 4,000 pps, paced (the agent then counts
//          every packet in the talker tables, which fill: the dearest snapshot);
//   flood: the highest rate trafgen reaches in the lab (TX_RING, one CPU),
//          a spoofed UDP flood from 198.19.0.0/16, bounded in packets and time;
//          it opens an incident, so the agent captures it (pcapng, uploaded);
//          then once more with an agent that does not capture, for the
//          difference (each of the two a new agent, 5 s old: an agent that has
//          just seen the paced flood starts the next with denser talker sampling).
// Bar: under 2% of a core and 80 MB RSS at idle. Needs root and trafgen.
// Usage: npm run bench:agent [-- --idle 20 --flood 8]
import fs from 'node:fs';
import os from 'node:os';
import { startLab } from '../scripts/lab/index.ts';
import { ipv4Packet, SPOOFED_SOURCES } from '../scripts/lab/traffic.ts';
import { sleep } from '../scripts/lab/wait.ts';
import { freshDataDir } from '../test/server/_harness.ts';

const arg = (name: string, dflt: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const IDLE_S = arg('idle', 20);
const FLOOD_S = arg('flood', 8);
const HZ = 100; // USER_HZ (sysconf(_SC_CLK_TCK)) on Linux

function cpuTicks(pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(f[11]) + Number(f[12]); // utime + stime
}

function memKb(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  const m = new RegExp(`${field}:\\s+(\\d+) kB`).exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m?.[1] ?? 0);
}

async function measure(pid: number, seconds: number, during?: Promise<unknown>): Promise<Cost> {
  const c0 = cpuTicks(pid),
    t0 = process.hrtime.bigint();
  await (during ? Promise.all([during, sleep(seconds * 1000)]) : sleep(seconds * 1000));
  const c1 = cpuTicks(pid),
    t1 = process.hrtime.bigint();
  const wall = Number(t1 - t0) / 1e9;
  return { cpuPct: ((c1 - c0) / HZ / wall) * 100, rssMb: memKb(pid, 'VmRSS') / 1024, hwmMb: memKb(pid, 'VmHWM') / 1024, wall };
}

interface Cost {
  cpuPct: number;
  rssMb: number;
  hwmMb: number;
  wall: number;
}

// No background or observer of the lab's own; the agent as it runs on a host: the
// bundle the set-up builds (no tsx in the process), production poll periods.
const run = await startLab({
  id: `b${process.pid % 1000}`,
  subnet: 45,
  dataDir: await freshDataDir(),
  traffic: false,
  agent: { from: 'bundle', polling: 'production', logLevel: 'warn', onLine: (line) => process.stderr.write(`${line}\n`) },
});
try {
  let pid = run.agent.child.pid!;
  await sleep(5000); // start-up is not steady state
  const idle = await measure(pid, IDLE_S);

  const { net, kernel } = run;
  const conf = ipv4Packet(net, { src: SPOOFED_SOURCES, proto: 'udp', l4: 'udp(sp=40000, dp=9)', payload: 'fill(0x41, 18)' });
  /** A spoofed flood for FLOOD_S seconds (bounded in packets too); returns the agent's cost and the rate seen. */
  const flood = async (packets: number, pace: string[]) => {
    const p0 = kernel.snapshot(0).counters.packets,
      t0 = Date.now();
    const gen = new Promise<void>((resolve) => {
      const g = net.spawn(
        net.attackerNs,
        [
          'timeout',
          String(FLOOD_S),
          'trafgen',
          '--dev',
          net.attackerIf,
          '--in',
          '-',
          '-n',
          String(packets),
          '-P',
          '1',
          '--no-sock-mem',
          ...pace,
        ],
        { stdio: ['pipe', 'ignore', 'ignore'] },
      );
      g.stdin!.end(conf);
      g.on('exit', () => resolve());
    });
    const m = await measure(pid, FLOOD_S - 1, gen);
    return { m, pps: (kernel.snapshot(0).counters.packets - p0) / ((Date.now() - t0) / 1000) };
  };
  /** The flood's incident once resolved, with its captures at the server. */
  const incident = async (after: number) => {
    for (let i = 0; i < 60; i++) {
      const inc = (await run.user('GET', `/incidents?node_id=${run.node.id}&limit=5`)).body?.incidents?.find((x: any) => x.id > after);
      if (inc?.status === 'resolved') return (await run.user('GET', `/incidents/${inc.id}`)).body;
      await sleep(1000);
    }
    return undefined;
  };
  const lastId = async () => (await run.user('GET', `/incidents?node_id=${run.node.id}&limit=1`)).body?.incidents?.[0]?.id ?? 0;
  const slow = await flood(FLOOD_S * 4_000, ['-t', '250us']);
  await sleep(2000);
  /** A new agent in place of the running one (the program and its pins stay); returns its pid once it has run 5 s. */
  const fresh = async (args: string[]) => {
    await run.agent.stop();
    const p = run.startAgent(args).child.pid!;
    await sleep(5000);
    return p;
  };
  // The highest rate: trafgen on its TX_RING without a rate limit; the agent captures its incident.
  pid = await fresh([]);
  const before = await lastId();
  const lostAt = () => kernel.snapshot(0).counters.samplesLost;
  const lost0 = lostAt();
  let lost1 = lost0;
  const second = setTimeout(() => {
    lost1 = lostAt();
  }, 1000);
  const fast = await flood(FLOOD_S * 3_000_000, []);
  clearTimeout(second);
  const lost = { first: lost1 - lost0, rest: lostAt() - lost1 };
  const inc = await incident(before);
  const parts: { packets: number; size: number }[] = inc?.pcaps ?? [];
  // The same flood with an agent that does not capture (the tap still feeds the other consumers).
  pid = await fresh(['--capture-max-bytes', '0']);
  const fastOff = await flood(FLOOD_S * 3_000_000, []);

  const row = (name: string, m: Cost, rate: string) =>
    `| ${name} | ${rate} | ${m.cpuPct.toFixed(2)} % | ${m.rssMb.toFixed(1)} MB | ${m.hwmMb.toFixed(1)} MB | ${m.wall.toFixed(1)} s |`;
  console.log(`\nagent cost on ${os.cpus().length} x ${os.cpus()[0]?.model ?? 'cpu'}, Linux ${os.release()}, Node ${process.version}`);
  console.log('| load | packets/s at the victim | CPU (one core = 100 %) | RSS | peak RSS | measured over |');
  console.log('| --- | --- | --- | --- | --- | --- |');
  console.log(row('idle', idle, '0'));
  console.log(row('spoofed UDP flood, paced', slow.m, Math.round(slow.pps).toLocaleString('en')));
  console.log(row('spoofed UDP flood, full speed, captured', fast.m, Math.round(fast.pps).toLocaleString('en')));
  console.log(row('spoofed UDP flood, full speed, no capture', fastOff.m, Math.round(fastOff.pps).toLocaleString('en')));
  console.log(
    `\ncapture of the full-speed flood's incident (${inc?.attack_family ?? 'none'}): ${parts.length} parts, ` +
      `${parts.reduce((n, p) => n + p.packets, 0).toLocaleString('en')} packets, ${parts.reduce((n, p) => n + p.size, 0).toLocaleString('en')} bytes at the server; ` +
      `samples lost in the kernel (over the per-CPU cap) ${lost.first.toLocaleString('en')} in the flood's first second ` +
      `(the period catching up from 1 in 1 on an idle host), ${lost.rest.toLocaleString('en')} after`,
  );
  const ok = idle.cpuPct < 2 && idle.rssMb < 80;
  console.log(`\nidle bar (< 2 % of a core, < 80 MB RSS): ${ok ? 'met' : 'NOT met'}`);
  process.exitCode = ok ? 0 : 1;
} finally {
  await run.close();
}
