// `--http-listen-backlog` / KHEISH_HTTP_LISTEN_BACKLOG: default, precedence and validation.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError, DEFAULT_LISTEN_BACKLOG, resolveServeConfig } from '../../src/config/serve-options.ts';

test('the listen backlog defaults to 4096, far above Node’s 511', () => {
  assert.equal(DEFAULT_LISTEN_BACKLOG, 4096);
  assert.equal(resolveServeConfig({}, {}).listenBacklog, 4096);
});

test('the flag wins over KHEISH_HTTP_LISTEN_BACKLOG, which wins over the default', () => {
  const env = { KHEISH_HTTP_LISTEN_BACKLOG: '2048' };
  assert.equal(resolveServeConfig({}, env).listenBacklog, 2048);
  assert.equal(resolveServeConfig({ httpListenBacklog: '8192' }, env).listenBacklog, 8192);
  // An empty value means unset, as for every other serve setting.
  assert.equal(
    resolveServeConfig({ httpListenBacklog: '' }, { KHEISH_HTTP_LISTEN_BACKLOG: '' }).listenBacklog,
    4096,
  );
});

test('a backlog that is not a whole number from 1 to 65535 is refused with the flag name', () => {
  for (const raw of ['0', '-5', '1.5', 'many', '65536'])
    assert.throws(
      () => resolveServeConfig({ httpListenBacklog: raw }, {}),
      (e: unknown) =>
        e instanceof ConfigError &&
        (e as Error).message ===
          `--http-listen-backlog must be a whole number from 1 to 65535 (got "${raw}")`,
      raw,
    );
});
