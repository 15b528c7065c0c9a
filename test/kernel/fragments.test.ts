// Real fragments: the attacker's kernel cuts each 4,000-byte UDP send into
// three frames on the veth (MTU 1500). The victim's XDP program counts the
// first as UDP (not malformed), and with a rule on its port drops it, so the
// victim's stack has nothing to reassemble; a source rule drops all three.
import test from 'ava';
import type { Breakwater, CounterName, RuleSpec } from '../../native/index.ts';
import { enableIpv6, sendDatagrams, udpReachedVictim } from '../helpers/fragments.ts';
import type { Lab } from '../helpers/netns.ts';
import { commands, isRoot, requireOrSkip } from '../helpers/privileged.ts';
import { programLab } from '../helpers/veth.ts';
import { canLoadXdp } from '../helpers/xdp.ts';

const COUNT = 200; // datagrams per step: 600 frames

/** Sends COUNT datagrams, waits until XDP saw every frame, returns counter deltas and what the stack got. */
async function flood(bw: Breakwater, lab: Lab, family: 4 | 6, dport: number) {
  const before = bw.snapshot(0).counters;
  const reachedBefore = udpReachedVictim(lab, family);
  sendDatagrams(lab, { count: COUNT, size: 4000, family, dport });
  const d = (c: CounterName) => bw.snapshot(0).counters[c] - before[c];
  for (let i = 0; i < 100 && d('fragments') < 3 * COUNT; i++) await new Promise((r) => setTimeout(r, 20));
  await new Promise((r) => setTimeout(r, 100)); // the stack reassembles right behind the hook
  const names: CounterName[] = ['fragments', 'udp', 'udpLaterFragments', 'malformed', 'dropped'];
  return { ...Object.fromEntries(names.map((c) => [c, d(c)])), reached: udpReachedVictim(lab, family) - reachedBefore };
}

if (requireOrSkip(test, isRoot, canLoadXdp, commands('ip'))) {
  test.serial('fragments the kernel made: first fragments count as UDP and meet port rules, all meet source rules', async (t) => {
    const { lab, attach } = programLab(t, `fr${process.pid % 10000}`, 31);
    enableIpv6(lab);
    const bw = attach();
    for (const family of [4, 6] as const) {
      const net = family === 4 ? '198.18.31.0/24' : '2001:db8:31::/64';
      const tag = `IPv${family}`;
      const n = COUNT;
      t.deepEqual(
        await flood(bw, lab, family, 4444),
        { fragments: 3 * n, udp: 3 * n, udpLaterFragments: 2 * n, malformed: 0, dropped: 0, reached: n },
        `${tag}: every fragment is UDP (the first with its ports, the two after it counted as later fragments), none malformed; the stack reassembles every datagram`,
      );

      const port: RuleSpec = { source: net, protocol: 'udp', port: 4444 };
      bw.addRule(port);
      const other = await flood(bw, lab, family, 4445);
      const hit = await flood(bw, lab, family, 4444);
      t.is(bw.listRules()[0]?.packets, n, `${tag}: the port rule matched every first fragment`);
      t.deepEqual(
        other,
        { fragments: 3 * n, udp: 3 * n, udpLaterFragments: 2 * n, malformed: 0, dropped: 0, reached: n },
        `${tag}: another port passes`,
      );
      t.deepEqual(
        hit,
        { fragments: 3 * n, udp: 3 * n, udpLaterFragments: 2 * n, malformed: 0, dropped: n, reached: 0 },
        `${tag}: the port rule drops the first fragments, so nothing is reassembled`,
      );
      t.true(bw.deleteRule(port));

      const source: RuleSpec = { source: net };
      bw.addRule(source);
      t.deepEqual(
        await flood(bw, lab, family, 4444),
        { fragments: 3 * n, udp: 3 * n, udpLaterFragments: 2 * n, malformed: 0, dropped: 3 * n, reached: 0 },
        `${tag}: a source rule drops every fragment`,
      );
      t.true(bw.deleteRule(source));
    }
  });
}
