import test from 'ava';
import { ConfigError, helpText, markdownTable, parseFlags, resolveConfig, SCHEMA } from '../../../agent/config.ts';

const required = { nodeUuid: 'u-file', apiKey: 'k-file', server: 'http://file.example:8080', iface: 'eth9' };

test('defaults from the schema', (t) => {
  const c = resolveConfig({ file: required });
  t.is(c.tickMs, 100);
  t.is(c.metricsMs, 1000);
  t.is(c.heartbeatMs, 30_000);
  t.is(c.configMs, 60_000);
  t.is(c.configAttackMs, 10_000);
  t.false(c.autoMitigate, 'auto-mitigation is off by default');
  t.false(c.detachOnExit);
  t.deepEqual(c.allowlist, []);
});

test('precedence: flags > env > file > defaults', (t) => {
  const file = { ...required, tickMs: 200, heartbeatMs: 5000, mode: 'generic' };
  const env = { BREAKWATER_TICK_MS: '150', BREAKWATER_API_KEY: 'k-env', BREAKWATER_AUTO_MITIGATE: 'true' };
  const { values } = parseFlags([
    '--tick-ms',
    '50',
    '--iface=veth1',
    '--allow',
    '10.0.0.0/8,192.0.2.1',
    '--allow',
    '2001:db8::/48',
    '--no-auto-mitigate',
  ]);
  const c = resolveConfig({ flags: values, env, file });
  t.is(c.tickMs, 50, 'flag wins');
  t.is(c.iface, 'veth1');
  t.is(c.apiKey, 'k-env', 'env beats file');
  t.is(c.heartbeatMs, 5000, 'file beats default');
  t.is(c.mode, 'generic');
  t.is(c.configMs, 60_000, 'default');
  t.false(c.autoMitigate, '--no-x beats env');
  t.deepEqual(c.allowlist, ['10.0.0.0/8', '192.0.2.1', '2001:db8::/48']);
  t.is(resolveConfig({ env, file }).tickMs, 150);
});

test('bad values and missing keys are refused with the key named', (t) => {
  t.throws(() => resolveConfig({ file: { ...required, tickMs: 5 } }), {
    instanceOf: ConfigError,
    message: 'config file: tickMs must be an integer >= 20, got 5',
  });
  t.throws(() => resolveConfig({ env: { BREAKWATER_TICK_MS: '5' }, file: required }), {
    message: 'BREAKWATER_TICK_MS: tickMs must be an integer >= 20, got "5"',
  });
  t.throws(() => parseFlags(['--tick-ms', 'fast']), {
    instanceOf: ConfigError,
    message: '--tick-ms: tickMs must be an integer >= 20, got "fast"',
  });
  t.throws(() => resolveConfig({ file: { ...required, mode: 'turbo' } }), { message: /mode must be one of/ });
  t.throws(() => resolveConfig({ file: { ...required, bogus: 1 } }), { message: /unknown key 'bogus'/ });
  t.throws(() => resolveConfig({ file: { ...required, server: 'ftp://x' } }), { message: /http\(s\) URL/ });
  t.throws(() => resolveConfig({ env: { BREAKWATER_AUTO_MITIGATE: 'maybe' }, file: required }), { message: /BREAKWATER_AUTO_MITIGATE/ });
  t.throws(() => resolveConfig({ file: { iface: 'x' } }), { message: /--node-uuid \(or BREAKWATER_NODE_UUID\).*--api-key.*--server/ });
  t.throws(() => parseFlags(['--tik-ms', '1']), { message: /unknown option --tik-ms/ });
  t.throws(() => parseFlags(['--iface']), { message: /--iface needs a value/ });
  t.throws(() => resolveConfig({ file: { ...required, ruleTtlDefault: 100, ruleTtlMax: 50 } }), { message: /ruleTtlDefault/ });
});

test('--help and the docs table list every key with its default and variable', (t) => {
  const help = helpText(),
    table = markdownTable();
  for (const [key, spec] of Object.entries(SCHEMA)) {
    t.true(help.includes(`  --${spec.flag}`) && help.includes(`Env: ${spec.env}.`) && help.includes(`File key: ${key}.`), key);
    t.true(table.includes(`| ${key} | --${spec.flag} | ${spec.env} |`), key);
  }
  t.true(
    help.includes('  --tick-ms N\n      kernel snapshot period, ms (>= 20). Default: 100. Env: BREAKWATER_TICK_MS. File key: tickMs.'),
  );
  t.true(help.includes('  --iface IF\n      network interface to protect. Default: required.'));
  t.true(help.includes('JSON config file. Env: BREAKWATER_CONFIG.'));
});
