// Priority-tagged frames (VLAN ID 0) through a real stack. A host without VLAN
// devices strips up to 8 such tags and delivers the IP packet under them; it
// drops a deeper stack itself. So the program must find the source under up
// to 8 tags (BW_MAX_VLAN_SEEK): a drop rule stops such frames at every depth,
// and past 8 tags, where the program gives up, the stack drops them anyway.
import test from 'ava';
import { limits } from '../../native/index.ts';
import { type Lab, udpDelivered } from '../helpers/netns.ts';
import { eth, ipv4, udp } from '../helpers/packets.ts';
import { commands, isRoot, requireOrSkip } from '../helpers/privileged.ts';
import { programLab } from '../helpers/veth.ts';
import { canLoadXdp } from '../helpers/xdp.ts';

const COUNT = 50;

/** Sends COUNT copies of a UDP frame under `tags` priority tags (raw, so any source); returns how many reached UDP. */
function reached(lab: Lab, tags: number, src: string): number {
  const f = eth(ipv4(udp({ dport: 9 }), { src, dst: lab.victimIp }), { vlans: Array(tags).fill(0x8100) });
  Buffer.from(lab.victimMac.split(':').map((h) => parseInt(h, 16))).copy(f, 0);
  for (let i = 0; i < tags; i++) f.writeUInt16BE(0, 14 + 4 * i); // VLAN ID 0, priority 0
  const before = udpDelivered(lab);
  lab.exec(
    lab.attackerNs,
    ['timeout', '-s', 'KILL', '10', 'trafgen', '--dev', lab.attackerIf, '--in', '-', '-n', String(COUNT), '-P', '1', '-C', '--no-sock-mem'],
    { input: `{ ${[...f].map((b) => `0x${b.toString(16)}`).join(', ')} }`, stdio: ['pipe', 'pipe', 'pipe'] },
  );
  return udpDelivered(lab) - before;
}

if (requireOrSkip(test, isRoot, canLoadXdp, commands('ip', 'trafgen'))) {
  test.serial('priority-tagged frames: the stack delivers up to 8 tags, the program drops them by source at every depth', (t) => {
    const { lab, attach } = programLab(t, `vl${process.pid % 10000}`, 33);
    const seek = limits.maxVlanSeek;
    const blocked = '198.19.77.7',
      other = '198.19.78.8';
    t.is(reached(lab, seek, other), COUNT, `no program: the stack delivers UDP under ${seek} priority tags`);
    t.is(reached(lab, seek + 1, other), 0, `no program: the stack drops ${seek + 1}`);
    const bw = attach();
    bw.addRule({ source: '198.19.77.0/24' });
    for (const tags of [0, 1, 3, seek]) {
      const before = bw.snapshot(0).counters.dropped;
      t.is(reached(lab, tags, blocked), 0, `${tags} tags, blocked source: nothing reaches UDP`);
      t.is(bw.snapshot(0).counters.dropped - before, COUNT, `${tags} tags: the program dropped them`);
    }
    t.is(reached(lab, seek, other), COUNT, `${seek} tags, another source: passed (malformed)`);
    const before = bw.snapshot(0).counters;
    t.is(reached(lab, seek + 1, blocked), 0, `${seek + 1} tags: passed by the program, dropped by the stack`);
    const after = bw.snapshot(0).counters;
    t.deepEqual([after.malformed - before.malformed, after.passed - before.passed], [COUNT, COUNT]);
  });
}
