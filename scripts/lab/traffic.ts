// Traffic for the lab, from real tools run inside the attacker namespace:
// trafgen (exact rates, spoofed sources from 198.19.0.0/16), hping3 (TCP
// SYN), and a legitimate background (an HTTP service in the victim, a client
// and ping from the attacker namespace's second address). Every generator is
// bounded in packets and seconds; removing the namespace kills whatever is left.
import type { ChildProcess } from 'node:child_process';
import type { Lab } from './topology.ts';

export interface Flow {
  /** Resolves when the generator exits (by itself, by its timeout or by stop()). */
  done: Promise<void>;
  stop(): void;
}

/** A child process as a Flow: done when it exits (its timeout or a stop() is no failure), stop() ends it. */
export function watch(child: ChildProcess, what: string, okCodes: number[] = [0]): Flow {
  let err = '';
  let stopped = false;
  child.stderr?.on('data', (d) => (err = (err + d).slice(-2000)));
  const done = new Promise<void>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      // 124: `timeout` ended it (the bound in seconds); a stop() is not a failure either.
      if (stopped || signal || (code !== null && (okCodes.includes(code) || code === 124))) resolve();
      else reject(new Error(`${what} exited with ${code}: ${err.trim()}`));
    });
  });
  done.catch(() => {}); // a caller that never awaits it must not crash the lab
  return {
    done,
    stop() {
      stopped = true;
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    },
  };
}

// Both tools sleep between packets, and a sleep on this kind of machine costs
// tens of microseconds more than asked: a generator asked for 10,000 pps with
// a 100 us gap sends about 6,000. So the lab measures that cost per tool once
// (calibrate()), asks for gaps shortened by it, and splits a fast flood over
// several processes, each under MAX_PER_PROCESS. (trafgen's own --rate does
// not pace: it sends each second's packets in one burst, then waits.)
const overheadUs: Record<'trafgen' | 'hping3', number> = { trafgen: 60, hping3: 60 };
const MAX_PER_PROCESS = 6_000;

/**
 * A flood lasts its `seconds` even when the tool runs faster than planned:
 * calibrate() measures the sleep cost once, and a calibration taken while the
 * machine was busy shortens the gaps too much for a quieter moment later (a
 * 4 s SYN flood was seen sent in 1.4 s, over before a rule could act). So the
 * packet bound allows twice the plan and the time bound ends the flood.
 */
const BURST_ALLOWANCE = 2;
function flowBounds(perProcessPps: number, seconds: number): { count: number; limitSeconds: number } {
  return { count: Math.max(1, Math.round(BURST_ALLOWANCE * perProcessPps * seconds)), limitSeconds: seconds + 0.3 };
}

function pacing(tool: 'trafgen' | 'hping3', pps: number): { processes: number; gapUs: number; perProcess: number } {
  const processes = Math.max(1, Math.ceil(pps / MAX_PER_PROCESS));
  const perProcess = pps / processes;
  return { processes, perProcess, gapUs: Math.max(1, Math.round(1e6 / perProcess - overheadUs[tool])) };
}

/** Several flows as one: done when all are, stopped together. */
export function together(flows: Flow[]): Flow {
  return {
    done: Promise.all(flows.map((f) => f.done)).then(() => {}),
    stop: () => {
      for (const f of flows) f.stop();
    },
  };
}

function trafgenOnce(lab: Lab, templates: string[], count: number, gapUs: number, limitSeconds: number): Flow {
  const child = lab.spawn(
    lab.attackerNs,
    [
      'timeout',
      String(limitSeconds),
      'trafgen',
      '--dev',
      lab.attackerIf,
      '--in',
      '-',
      '-n',
      String(count),
      '-t',
      `${gapUs}us`,
      '-P',
      '1',
      '--no-sock-mem',
      '-q',
    ],
    { stdio: ['pipe', 'ignore', 'pipe'] },
  );
  child.stdin!.end(templates.join('\n'));
  return watch(child, 'trafgen');
}

function hping3Once(lab: Lab, args: string[], target: string, count: number, gapUs: number, limitSeconds: number): Flow {
  const child = lab.spawn(lab.attackerNs, [
    'timeout',
    String(limitSeconds),
    'hping3',
    '-q',
    '-n',
    ...args,
    '-i',
    `u${gapUs}`,
    '-c',
    String(count),
    target,
  ]);
  // hping3 exits 1 when no reply came back (spoofed sources): not an error here.
  return watch(child, 'hping3', [0, 1]);
}

/**
 * trafgen sending the packet templates in turn (trafgen's configuration
 * language, one packet per template) at about `pps` for `seconds`: at most
 * bounded by BURST_ALLOWANCE x pps x seconds packets and stopped `seconds` (plus start-up) after
 * its start (see flowBounds).
 */
export function trafgen(lab: Lab, templates: string[], pps: number, seconds: number): Flow {
  const p = pacing('trafgen', pps);
  const b = flowBounds(p.perProcess, seconds);
  return together(Array.from({ length: p.processes }, () => trafgenOnce(lab, templates, b.count, p.gapUs, b.limitSeconds)));
}

/** hping3 with `args` at about `pps` for `seconds`, bounded as trafgen() is. */
export function hping3(lab: Lab, args: string[], target: string, pps: number, seconds: number): Flow {
  const p = pacing('hping3', pps);
  const b = flowBounds(p.perProcess, seconds);
  return together(Array.from({ length: p.processes }, () => hping3Once(lab, args, target, b.count, p.gapUs, b.limitSeconds)));
}

/**
 * Measures each tool's cost per packet beyond the gap it is given: the time
 * of 2,000 packets minus that of 200 at a 100 us gap (start-up cancels out).
 * Sends 4,400 UDP packets and 2,200 SYNs at the victim's discard port.
 */
export async function calibrate(lab: Lab): Promise<{ trafgen: number; hping3: number }> {
  const udp = [ipv4Packet(lab, { src: `saddr=${lab.attackerIp}`, proto: 'udp', l4: 'udp(sp=40000, dp=9)', payload: 'fill(0x41, 18)' })];
  const time = async (f: () => Flow) => {
    const t = performance.now();
    await f().done;
    return performance.now() - t;
  };
  const cost = async (run: (n: number) => Flow) => {
    const short = await time(() => run(200)),
      long = await time(() => run(2000));
    return Math.min(500, Math.max(0, ((long - short) * 1000) / 1800 - 100));
  };
  overheadUs.trafgen = await cost((n) => trafgenOnce(lab, udp, n, 100, 10));
  overheadUs.hping3 = await cost((n) => hping3Once(lab, ['-2', '-p', '9'], lab.victimIp, n, 100, 10));
  return { ...overheadUs };
}

/** One Ethernet + IPv4 template of trafgen's language towards the victim. */
export function ipv4Packet(lab: Lab, o: { src: string; proto: 'udp' | 'icmp'; l4: string; payload: string; ttl?: number }): string {
  const ip = `ipv4(${o.src}, daddr=${lab.victimIp}, ttl=${o.ttl ?? 64}${o.proto === 'icmp' ? ', proto=1' : ''})`;
  return `{ eth(da=${lab.victimMac}, type=0x0800), ${ip}, ${o.l4}, ${o.payload} }`;
}

/** Random sources in 198.19.0.0/16 (the lab range; the victim's blackhole route eats any answer). */
export const SPOOFED_SOURCES = 'saddr=198.19.0.1, saddr[2:2]=drnd()';
export const SPOOFED_PREFIX = '198.19.0.0/16';

// The legitimate background: the victim serves HTTP on port 80; the client
// address asks for a page every 50 ms (a new connection each time: SYN,
// ACK, PSH, FIN on the wire) and pings 5 times a second. About 150 packets
// a second reach the victim: far under any threshold the lab sets.
const SERVICE = `
const http = require('http');
http.createServer((req, res) => res.end('breakwater lab ' + Date.now() + '\\n')).listen(80, process.argv[1]);
`;
const CLIENT = `
const http = require('http');
const [victim, local] = process.argv.slice(1);
let ok = 0, failed = 0;
const agent = new http.Agent({ keepAlive: false });
setInterval(() => {
  const req = http.get({ host: victim, port: 80, path: '/', localAddress: local, agent, timeout: 2000 }, (res) => { res.resume(); res.on('end', () => ok++); });
  req.on('timeout', () => req.destroy());
  req.on('error', () => failed++);
}, 50);
setInterval(() => process.stdout.write(JSON.stringify({ ok, failed }) + '\\n'), 1000);
`;

export interface Background extends Flow {
  /** HTTP requests answered and failed so far. */
  stats(): { ok: number; failed: number };
}

/** Starts the victim's service and the legitimate client; runs until stop() (or `seconds`). */
export function background(lab: Lab, seconds = 3600): Background {
  const limit = String(Math.ceil(seconds));
  const service = lab.spawn(lab.victimNs, ['timeout', limit, process.execPath, '-e', SERVICE, lab.victimIp]);
  const client = lab.spawn(lab.attackerNs, ['timeout', limit, process.execPath, '-e', CLIENT, lab.victimIp, lab.clientIp], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const ping = lab.spawn(lab.attackerNs, [
    'timeout',
    limit,
    'ping',
    '-q',
    '-i',
    '0.2',
    '-I',
    lab.clientIp,
    '-c',
    String(Math.ceil(seconds * 5)),
    lab.victimIp,
  ]);
  let last = { ok: 0, failed: 0 };
  let buf = '';
  client.stdout!.on('data', (d) => {
    buf += d;
    const lines = buf.split('\n');
    buf = lines.pop() ?? '';
    for (const l of lines)
      try {
        last = JSON.parse(l);
      } catch {
        /* partial line */
      }
  });
  const flows = [watch(service, 'lab HTTP service'), watch(client, 'lab HTTP client'), watch(ping, 'ping', [0, 1])];
  return { ...together(flows), stats: () => last };
}
