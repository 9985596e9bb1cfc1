// Issue 10 item 5, boot: `serve` loads only what it needs to be ready. The provider SDKs load on a
// provider route's first model call (route readiness at boot does not need them), @fastify/swagger
// on the first GET /v1/openapi.json, Ajv never (zod validates), the client commands never. A load
// hook injected with NODE_OPTIONS writes every module the daemon process loads to a file.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { startAnthropicServer } from '../fixtures/providers/anthropic-server.ts';
import type { FixtureServer } from '../fixtures/providers/harness.ts';
import { http, startDaemon, type TestDaemon, tempDir, waitForRun } from '../helpers/daemon.ts';

const HOOK = `
import { registerHooks } from 'node:module';
import { appendFileSync } from 'node:fs';
const out = process.env.KHEISH_TEST_LOADED_MODULES;
registerHooks({ load(url, context, next) { appendFileSync(out, url + '\\n'); return next(url, context); } });
`;

const dir = tempDir('kheish-lazy-boot-');
const loadedFile = join(dir, 'loaded.txt');
let anthropic: FixtureServer;
let d: TestDaemon;

/** Packages (under node_modules) and our own files the daemon process has loaded so far. */
function loaded(): { packages: Set<string>; files: Set<string> } {
  const packages = new Set<string>();
  const files = new Set<string>();
  for (const url of readFileSync(loadedFile, 'utf8').split('\n')) {
    const inModules = url.split('/node_modules/')[1];
    if (inModules) {
      const parts = inModules.split('/');
      packages.add(parts[0]!.startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0]!);
    } else if (url.includes('/src/')) files.add(`src/${url.split('/src/').pop()}`);
  }
  return { packages, files };
}

const SDK = [
  'ai',
  '@ai-sdk/anthropic',
  '@ai-sdk/openai',
  '@ai-sdk/google',
  '@ai-sdk/xai',
  '@ai-sdk/openai-compatible',
  '@openrouter/ai-sdk-provider',
];

before(async () => {
  anthropic = await startAnthropicServer();
  writeFileSync(loadedFile, '');
  writeFileSync(
    join(dir, 'routes.toml'),
    `version = 1
default_route = "claude"

[routes.claude]
driver = "anthropic"
default_model = "claude-sonnet-4-6"
api_key_env = "TEST_LAZY_ANTHROPIC_KEY"
base_url = "${anthropic.origin}"

[routes.gpt]
driver = "openai"
default_model = "gpt-5.4"
api_key_env = "TEST_LAZY_OPENAI_KEY_UNSET"

[routes.local]
driver = "openai_compatible"
default_model = "llama"
`,
  );
  d = await startDaemon({
    args: ['--routes-file', join(dir, 'routes.toml')],
    env: {
      TEST_LAZY_ANTHROPIC_KEY: 'sk-ant-lazy',
      KHEISH_TEST_LOADED_MODULES: loadedFile,
      NODE_OPTIONS: `--import=data:text/javascript,${encodeURIComponent(HOOK)}`,
    },
  });
});

after(async () => {
  await d?.kill();
  d?.cleanup();
  await anthropic?.close();
});

test('boot: ready without the provider SDKs, swagger, Ajv, the media libraries or the client commands; route readiness unchanged', async () => {
  const { packages, files } = loaded();
  assert.ok(packages.has('fastify') && packages.has('zod'), 'the hook saw the server load');
  for (const name of [...SDK, '@fastify/swagger', 'yaml', 'ajv', '@fastify/ajv-compiler', 'sharp', 'unpdf'])
    assert.ok(!packages.has(name), `${name} is not loaded at boot`);
  for (const file of [
    'src/cli/program.ts',
    'src/cli/status.ts',
    'src/cli/doctor-checks.ts',
    'src/cli/runtime-commands.ts',
  ])
    assert.ok(!files.has(file), `${file} is not loaded by serve`);

  const routes = (await http(d.url, 'GET', '/v1/runtime/routes')).body;
  const view = (id: string) => routes.find((r: { route_id: string }) => r.route_id === id);
  assert.equal(view('claude').readiness, 'ok');
  assert.equal(view('gpt').readiness, 'error');
  assert.match(view('gpt').reason, /TEST_LAZY_OPENAI_KEY_UNSET/);
  // A route that cannot work at all is still reported at boot, without its SDK.
  assert.equal(view('local').readiness, 'error');
  assert.match(view('local').reason, /base_url is required/);
  assert.ok(!loaded().packages.has('ai'), 'readiness did not load the SDK');
});

test('the OpenAPI document is built on first request: OpenAPI 3.1.0, same for every caller', async () => {
  const [a, b] = await Promise.all([
    http(d.url, 'GET', '/v1/openapi.json'),
    http(d.url, 'GET', '/v1/openapi.json'),
  ]);
  assert.equal(a.status, 200);
  assert.equal(a.body.openapi, '3.1.0');
  assert.ok(a.body.paths['/v1/sessions/{session_id}/runs'], 'feature routes are documented');
  assert.equal(a.body.paths['/v1/openapi.json'], undefined, 'the document route itself is hidden');
  assert.equal(a.text, b.text);
  assert.ok(loaded().packages.has('@fastify/swagger'));
  assert.ok(!loaded().packages.has('ajv'), 'documenting compiles no schema');
});

test("a provider route's first model call loads its SDK, and only that one", async () => {
  anthropic.enqueue({ kind: 'text', deltas: ['lazy ', 'hello'] });
  await http(d.url, 'POST', '/v1/sessions', { session_id: 'lazy' });
  const submitted = await http(d.url, 'POST', '/v1/sessions/lazy/runs', { content: 'hi' });
  assert.equal(submitted.status, 202, submitted.text);
  const run = await waitForRun(d.url, submitted.body.run_id);
  assert.equal(run.status, 'completed', run.error);
  assert.deepEqual(
    run.outputs.map((o: { content: string }) => o.content),
    ['lazy hello'],
  );
  const { packages } = loaded();
  assert.ok(packages.has('ai') && packages.has('@ai-sdk/anthropic'));
  for (const name of SDK.filter((n) => n !== 'ai' && n !== '@ai-sdk/anthropic'))
    assert.ok(!packages.has(name), `${name} stays unloaded`);
});
