// Real traffic over veth between two namespaces, in native and generic mode:
// counters equal what was sent, a drop rule stops it at the victim, a new
// process adopts the program and its rules, detach leaves nothing behind.

import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import test from 'ava';
import { Breakwater } from '../../native/index.ts';
import { createLab, type Lab, sendUdp, udpReached } from '../helpers/netns.ts';
import { commands, isRoot, requireOrSkip } from '../helpers/privileged.ts';
import { canLoadXdp } from '../helpers/xdp.ts';

function driver(
  lab: Lab,
  op: string,
  extra: object = {},
): { info: { adopted: boolean; mode: string }; rules: { address: string; packets: number }[]; counters: Record<string, number> } {
  const arg = JSON.stringify({ iface: lab.victimIf, netns: lab.victimNs, op, ...extra });
  return JSON.parse(execFileSync(process.execPath, ['--import', 'tsx', 'test/helpers/xdp-driver.ts', arg], { encoding: 'utf8' }));
}

if (requireOrSkip(test, isRoot, canLoadXdp, commands('trafgen', 'ip'))) {
  for (const [i, mode] of (['native', 'generic'] as const).entries()) {
    test.serial(`${mode} XDP on veth: count, drop, adopt, detach`, (t) => {
      const lab = createLab(`${process.pid % 10000}${i}`, 20 + i);
      let bw: Breakwater | undefined;
      t.teardown(() => {
        try {
          bw?.close();
          Breakwater.detachInterface(lab.victimIf, { netns: lab.victimNs });
        } catch {
          /* detached by the test */
        }
        lab.destroy();
      });
      bw = Breakwater.attach(lab.victimIf, { netns: lab.victimNs, mode });
      t.is(bw.info.mode, mode);
      t.false(bw.info.adopted);
      const pinDir = bw.info.pinDir!;

      // Counters equal what was sent.
      const base = bw.snapshot(0).counters;
      sendUdp(lab, { count: 2000, payload: 100 });
      const after = bw.snapshot(0).counters;
      t.is(after.udp - base.udp, 2000);
      t.is(after.udpBytes - base.udpBytes, 2000 * (14 + 20 + 8 + 100));
      t.is(after.passed - base.passed, after.packets - base.packets);

      // A drop rule stops the traffic the victim's stack sees.
      bw.addRule({ source: '198.18.0.0/16', protocol: 'udp', port: 9 });
      t.is(udpReached(lab, { count: 1000 }), 0, 'nothing reached the victim');
      t.is(bw.listRules()[0]?.packets, 1000);

      // The process lets go; the program keeps dropping; a new process adopts it all.
      bw.close();
      bw = undefined;
      t.is(udpReached(lab, { count: 500 }), 0, 'enforcement goes on with no process');
      const adopted = driver(lab, 'info');
      t.true(adopted.info.adopted);
      t.is(adopted.info.mode, mode);
      t.is(adopted.rules.length, 1);
      t.is(adopted.rules[0]?.packets, 1500);
      t.is(adopted.counters.dropped, 1500);

      // Detach removes program, link and pins.
      Breakwater.detachInterface(lab.victimIf, { netns: lab.victimNs });
      const link = JSON.parse(lab.exec(lab.victimNs, ['ip', '-j', '-d', 'link', 'show', lab.victimIf]))[0];
      t.is(link.xdp, undefined, 'no XDP program on the interface');
      t.false(existsSync(pinDir), 'no pins left');
      t.is(udpReached(lab, { count: 100 }), 100, 'traffic flows again');
    });
  }

  test.serial('pins of an interface that vanished are removed by detach', (t) => {
    const lab = createLab(`${process.pid % 10000}9`, 29);
    t.teardown(() => lab.destroy());
    const bw = Breakwater.attach(lab.victimIf, { netns: lab.victimNs, mode: 'generic' });
    const pinDir = bw.info.pinDir!;
    bw.close();
    // The namespace can still be entered; only the interface is gone.
    lab.exec(lab.victimNs, ['ip', 'link', 'del', lab.victimIf]);
    t.throws(() => Breakwater.detachInterface(lab.victimIf, { netns: lab.victimNs }), {
      code: 'ENODEV',
      message: /stale pins were removed/,
    });
    t.false(existsSync(pinDir));
  });

  test.serial('clear errors: missing interface, missing namespace, nothing to detach', (t) => {
    t.throws(() => Breakwater.attach('bwnosuch0'), { code: 'ENODEV', message: /no network interface named 'bwnosuch0'/ });
    t.throws(() => Breakwater.attach('lo', { netns: 'bw-no-such-ns' }), { code: 'ENOENT', message: /no network namespace/ });
    t.throws(() => Breakwater.detachInterface('lo'), { code: 'ENOENT', message: /not attached/ });
  });
}
