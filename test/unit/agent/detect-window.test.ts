// A flood that starts late in a talker window: its port counts cover only
// the flood's part of the window. The share of a port must be taken against
// the packets the window really holds (TrafficSample.windowPackets), not
// against the tick's rate times the window's length, or a DNS reflection
// opens as a generic UDP flood.
import test from 'ava';
import { Detector } from '../../../agent/detect/index.ts';
import type { DetectorEvent, TrafficSample } from '../../../agent/detect/types.ts';
import { normal, run, sample, TICK } from './traffic.ts';

const cfg = { ppsThreshold: 10_000, bpsThreshold: 10_000_000_000 };
const FLOOD = 100_000;
const ONSET = 30_800; // the window started at 30 000

function reflectionTick(t: number, exact: boolean): TrafficSample {
  const s = sample(t, [
    ...normal(2_000),
    { pps: FLOOD, proto: 'udp', bytes: 1_200, srcPort: 53, dstPort: 40_000, ttl: [50], distinct: 16 },
  ]);
  const windowMs = t - 30_000;
  const floodPackets = (FLOOD * (t - ONSET)) / 1000;
  const backgroundUdp = (2_000 * 0.25 * windowMs) / 1000;
  s.windowMs = windowMs;
  // The kernel's tables hold what the window saw: the flood only since its onset.
  s.topUdpSrcPorts = [{ port: 53, count: floodPackets + backgroundUdp }];
  s.topUdpDstPorts = [{ port: 40_000, count: floodPackets }];
  if (exact)
    s.windowPackets = { all: floodPackets + (2_000 * windowMs) / 1000, tcp: (1_400 * windowMs) / 1000, udp: floodPackets + backgroundUdp };
  return s;
}

function openedFamily(exact: boolean): string | undefined {
  const d = new Detector(cfg);
  run(d, 0, ONSET, () => normal(2_000));
  const evs: DetectorEvent[] = [];
  for (let t = ONSET + TICK; t <= ONSET + 500; t += TICK) evs.push(...d.push(reflectionTick(t, exact)));
  const o = evs.find((e) => e.type === 'opened');
  return o && `${o.incident.attack_family}/${o.extension.attack_subtype}`;
}

test('with exact window packets a DNS reflection late in the window opens as dns_flood', (t) => {
  t.is(openedFamily(true), 'dns_flood/dns_reflection');
});

test('control: estimated from the rate, the same ticks would open as a generic UDP flood', (t) => {
  t.is(openedFamily(false), 'udp_flood/udp_generic');
});
