// docs/providers.md, followed step by step for Anthropic and OpenAI: master key, offline slot,
// doctor routes, serve, a run — with base_url pointing at local wire-format servers.
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { startAnthropicServer } from '../fixtures/providers/anthropic-server.ts';
import { startOpenAiServer } from '../fixtures/providers/openai-server.ts';
import { BIN, http, startDaemon, tempDir, waitForRun } from '../helpers/daemon.ts';

const cli = (args: string[], env: Record<string, string>, input?: string) =>
  spawnSync(BIN, args, { encoding: 'utf8', env: { ...process.env, ...env }, input, timeout: 30_000 });

for (const provider of ['anthropic', 'openai'] as const) {
  test(`docs/providers.md walk-through works for ${provider}`, async () => {
    const fixture = provider === 'anthropic' ? await startAnthropicServer() : await startOpenAiServer();
    const R = tempDir();
    const work = tempDir('kheish-routes-');
    const providerKey = `sk-${provider}-walkthrough-key-0123456789`;
    try {
      // 1. master key
      const generated = cli(['secrets', 'generate'], {});
      assert.equal(generated.status, 0, generated.stderr);
      const env = { KHEISH_AUTH_STORE_MASTER_KEY: generated.stdout.trim(), PROVIDER_KEY: providerKey };
      // 2. slot, offline
      const slot = `${provider}.prod`;
      const set = cli(
        [
          'secrets',
          'set',
          slot,
          '--provider',
          provider,
          '--from-env',
          'PROVIDER_KEY',
          '--offline',
          '--state-root',
          R,
        ],
        env,
      );
      assert.equal(set.status, 0, set.stderr);
      // the routes file of the doc, with base_url at the local server
      const route = provider === 'anthropic' ? 'claude' : 'gpt';
      const model = provider === 'anthropic' ? 'claude-sonnet-4-6' : 'gpt-5.4';
      const routes = join(work, 'routes.toml');
      writeFileSync(
        routes,
        `version = 1\ndefault_route = "${route}"\n\n[routes.${route}]\ndriver = "${provider}"\ndefault_model = "${model}"\nauth_ref = "${slot}"\nbase_url = "${fixture.origin}"\n`,
      );
      // 3. doctor (offline lint)
      const doctor = cli(['doctor', 'routes', '--routes-file', routes, '--state-root', R], env);
      assert.equal(doctor.status, 0, `offline, the slot is read from R's store: ${doctor.stdout}`);
      assert.match(doctor.stdout, new RegExp(`${route}\\s+${provider}\\s+\\S+\\s+ok\\s+yes`));
      // 4. serve and run
      const d = await startDaemon({ stateRoot: R, args: ['--routes-file', routes], env });
      try {
        fixture.enqueue({ kind: 'text', deltas: ['Bonjour', ' !'] });
        // Asynchronous on purpose: the provider fixture lives in this process and must keep answering.
        const submit = await promisify(execFile)(
          BIN,
          ['--base-url', d.url, 'runs', 'submit', 'demo', 'Say hello in French', '--watch'],
          {
            encoding: 'utf8',
            timeout: 30_000,
          },
        );
        assert.match(submit.stdout, /Bonjour !/);
        const req = fixture.requests.at(-1)!;
        const auth = provider === 'anthropic' ? req.headers['x-api-key'] : req.headers.authorization;
        assert.equal(auth, provider === 'anthropic' ? providerKey : `Bearer ${providerKey}`);
        // rotation online: the next run uses the new key
        const put = await http(d.url, 'POST', '/v1/runtime/secrets', {
          slot_id: slot,
          provider,
          mode: 'api_key',
          state: { kind: 'api_key', api_key: `${providerKey}-rotated` },
          updated_at_ms: 0,
        });
        assert.equal(put.status, 200, put.text);
        assert.ok(!put.text.includes(providerKey));
        fixture.enqueue({ kind: 'text', deltas: ['again'] });
        await http(d.url, 'POST', '/v1/sessions', { session_id: 'rot' });
        const run = await waitForRun(
          d.url,
          (await http(d.url, 'POST', '/v1/sessions/rot/runs', { content: 'x' })).body.run_id,
        );
        assert.equal(run.status, 'completed', run.error);
        const rotated = fixture.requests.at(-1)!;
        const auth2 = provider === 'anthropic' ? rotated.headers['x-api-key'] : rotated.headers.authorization;
        assert.match(String(auth2), /-rotated$/);
        assert.ok(!d.logs().includes(providerKey));
      } finally {
        await d.kill();
      }
    } finally {
      await fixture.close();
    }
  });
}

test('ops-runtime #8: a route whose auth_ref names a missing slot prevents startup, with the command to fix it', () => {
  const work = tempDir('kheish-routes-');
  const routes = join(work, 'routes.toml');
  writeFileSync(
    routes,
    'version = 1\n[routes.gpt]\ndriver = "openai"\ndefault_model = "gpt-5.4"\nauth_ref = "openai.prod"\n',
  );
  const r = spawnSync(
    BIN,
    ['serve', '--state-root', tempDir(), '--bind', '127.0.0.1:0', '--routes-file', routes],
    { encoding: 'utf8', timeout: 20_000 },
  );
  assert.equal(r.status, 2);
  assert.match(r.stderr, /secret slots that do not exist: openai\.prod/);
  assert.match(r.stderr, /kheish-daemon secrets set/);
});
