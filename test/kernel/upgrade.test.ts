// An agent upgraded in place brings its program along: when the program
// running in the pinned link is not this build's (here: an empty XDP program
// standing for an older version), adopting the pins loads this build's
// program on the pinned maps and swaps it into the link; the rules, their
// counters and the config survive, and a blocked source is dropped again.
// When the running program is this build's, adopting changes nothing. Maps
// pinned in an older layout (the LPM trie of prefix rules before the prefix
// lengths index) are refused, never adopted.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import test from 'ava';
import { Breakwater, replaceLinkProgram } from '../../native/index.ts';
import { udpReached } from '../helpers/netns.ts';
import { commands, isRoot, requireOrSkip } from '../helpers/privileged.ts';
import { programLab } from '../helpers/veth.ts';
import { canLoadXdp } from '../helpers/xdp.ts';

if (requireOrSkip(test, isRoot, canLoadXdp, commands('ip', 'trafgen', 'clang', 'bpftool'))) {
  test.serial('adopting an older program upgrades it in the link, keeping rules and counters', (t) => {
    const { lab, attach } = programLab(t, `up${process.pid % 10000}`, 35);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bw-upgrade-'));
    const pin = `/sys/fs/bpf/bwtest-older-${process.pid}`;
    t.teardown(() => {
      fs.rmSync(pin, { force: true });
      fs.rmSync(dir, { recursive: true, force: true });
    });
    const first = attach();
    first.addRule({ source: lab.attackerIp, protocol: 'udp' });
    first.setTalkerSampling(8);
    t.is(udpReached(lab, { count: 50 }), 0, 'this build drops the blocked source');
    const pinDir = first.info.pinDir!;
    first.close();

    const src = path.join(dir, 'older.bpf.c');
    fs.writeFileSync(
      src,
      '__attribute__((section("xdp"), used)) int older(void *ctx) { return 2; }\nchar _l[] __attribute__((section("license"), used)) = "GPL";\n',
    );
    execFileSync('clang', ['-O2', '-target', 'bpf', '-c', src, '-o', path.join(dir, 'older.o')]);
    execFileSync('bpftool', ['prog', 'load', path.join(dir, 'older.o'), pin, 'type', 'xdp']);
    replaceLinkProgram(`${pinDir}/link`, pin);
    t.is(udpReached(lab, { count: 50 }), 50, 'the older program lets the blocked source through');

    const upgraded = Breakwater.attach(lab.victimIf, { netns: lab.victimNs });
    t.like(upgraded.info, { adopted: true, upgraded: true });
    t.deepEqual(
      upgraded.listRules().map((r) => [r.address, r.protocol, r.packets]),
      [[lab.attackerIp, 'udp', 50]],
      'the rule and its hits survive',
    );
    t.is(upgraded.config().talkerSamplePeriod, 8, 'the config survives');
    t.is(udpReached(lab, { count: 50 }), 0, 'the blocked source is dropped again');
    upgraded.close();

    const again = Breakwater.attach(lab.victimIf, { netns: lab.victimNs });
    t.like(again.info, { adopted: true, upgraded: false }, "the program running is this build's: nothing to do");
    t.is(again.listRules()[0]?.packets, 100);
    again.close();
  });

  test.serial('maps pinned in an older layout are refused, not adopted', (t) => {
    const { lab, attach } = programLab(t, `ul${process.pid % 10000}`, 36);
    const first = attach();
    const pinDir = first.info.pinDir!;
    first.close();
    t.teardown(() => fs.rmSync(pinDir, { recursive: true, force: true }));
    // The rules map as builds before the prefix lengths index pinned it: an LPM trie, 12-byte keys.
    fs.unlinkSync(`${pinDir}/rules_v4`);
    execFileSync('bpftool', [
      'map',
      'create',
      `${pinDir}/rules_v4`,
      'type',
      'lpm_trie',
      'key',
      '12',
      'value',
      '16',
      'entries',
      '65536',
      'name',
      'rules_v4',
      'flags',
      '1',
    ]);
    t.throws(() => Breakwater.attach(lab.victimIf, { netns: lab.victimNs }), {
      code: 'EEXIST',
      message: /another version .*map 'rules_v4' differs/,
    });
  });
}
