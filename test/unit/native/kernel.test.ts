import test from 'ava';
import { checkKernel, parseConfig, parseVersion } from '../../../native/kernel.ts';

const good = parseConfig(
  'CONFIG_BPF=y\nCONFIG_BPF_SYSCALL=y\nCONFIG_NET=y\nCONFIG_BPF_JIT=y\nCONFIG_DEBUG_INFO_BTF=y\nCONFIG_VETH=m\n# CONFIG_FOO is not set\n',
);

test('versions', (t) => {
  t.deepEqual(parseVersion('6.1.0-18-amd64'), [6, 1]);
  t.deepEqual(parseVersion('5.18.0'), [5, 18]);
  t.is(parseVersion('weird'), null);
});

test('an old kernel is refused with the reason', (t) => {
  const r = checkKernel('5.15.0-91-generic', good);
  t.true(r.problems.some((p) => /Linux 5\.18 or newer/.test(p)));
});

test('missing options are named; recommended ones become notes', (t) => {
  const cfg = parseConfig('CONFIG_BPF=y\nCONFIG_NET=y\n');
  const r = checkKernel('6.1.0', cfg);
  t.true(r.problems.some((p) => p.startsWith('CONFIG_BPF_SYSCALL=y is needed')));
  t.true(r.notes.some((n) => n.startsWith('CONFIG_BPF_JIT is not set')));
});

test('a good kernel passes (as root)', (t) => {
  const r = checkKernel('6.1.0', good);
  if (process.getuid?.() === 0) t.deepEqual(r, { ok: true, problems: [], notes: [] });
  else t.deepEqual(r.problems, ['Breakwater must run as root (CAP_BPF, CAP_NET_ADMIN, CAP_SYS_ADMIN for bpffs)']);
});

test('an unreadable config is a note, not a failure', (t) => {
  t.true(checkKernel('6.1.0', null).notes.some((n) => /not readable/.test(n)));
});
