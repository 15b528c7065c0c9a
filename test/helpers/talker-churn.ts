// A separate process that runs a pinned Breakwater program through
// BPF_PROG_TEST_RUN with a new random source (in 198.18.0.0/15) on every
// packet: a spoofed flood that rewrites the talker tables while the test
// process reads them. Bounded in packets and seconds; prints how many it ran.
//   node --import tsx test/helpers/talker-churn.ts PROG_PIN PACKETS SECONDS
import { testRunPinned } from '../../native/index.ts';
import { eth, ipv4, udp } from './packets.ts';

const [pin = '', packets = '0', seconds = '0'] = process.argv.slice(2);
const frame = eth(ipv4(udp()));
const until = Date.now() + Number(seconds) * 1000;
let ran = 0;
process.stdout.write('ready\n');
while (ran < Number(packets) && (ran & 1023 || Date.now() < until)) {
  frame.writeUInt32BE((0xc6120000 | (Math.random() * 0x20000)) >>> 0, 14 + 12);
  testRunPinned(pin, frame, 1);
  ran++;
}
process.stdout.write(`${ran}\n`);
