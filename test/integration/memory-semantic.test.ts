// Optional semantic ranking of memory search (decision 453), against a local OpenAI-compatible
// `/v1/embeddings` wire server written here: its vectors count words of three hand-made concepts,
// so "automobile" is near "car brakes" though they share no word. Off by default; when on, a
// query finds the similar record with `semantic` in its matched fields; a route without
// embeddings is refused; a failing server falls back to lexical ranking and is counted.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { http, startDaemon, type TestDaemon, tempDir, waitForRun } from '../helpers/daemon.ts';

const CONCEPTS = [
  ['car', 'automobile', 'vehicle', 'brakes', 'garage', 'tyres'],
  ['pizza', 'food', 'lunch', 'dinner', 'restaurant'],
  ['passport', 'visa', 'travel', 'embassy', 'flight'],
];

function vector(text: string): number[] {
  const words = text.toLowerCase().match(/[a-z]+/g) ?? [];
  const v = CONCEPTS.map((c) => words.filter((w) => c.includes(w)).length);
  v.push(0.2); // never a zero vector
  const norm = Math.hypot(...v);
  return v.map((x) => x / norm);
}

let failing = false;
const seen: any[] = [];
let server: Server;
let d: TestDaemon;

before(async () => {
  server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}');
    if (req.method !== 'POST' || req.url !== '/v1/embeddings' || failing) {
      res.writeHead(failing ? 503 : 404, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { message: 'unavailable', type: 'server_error' } }));
      return;
    }
    seen.push(body);
    const inputs: string[] = Array.isArray(body.input) ? body.input : [body.input];
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(
      JSON.stringify({
        object: 'list',
        model: body.model,
        data: inputs.map((t, index) => ({ object: 'embedding', index, embedding: vector(t) })),
        usage: { prompt_tokens: inputs.length, total_tokens: inputs.length },
      }),
    );
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  const dir = tempDir('kheish-memory-semantic-');
  writeFileSync(join(dir, 'script.json'), JSON.stringify({ default: { turns: [{ text: 'done' }] } }));
  writeFileSync(
    join(dir, 'routes.toml'),
    `version = 1
default_route = "local"

[routes.local]
driver = "scripted"
default_model = "scripted"
script_file = "script.json"

[routes.embed]
driver = "openai_compatible"
default_model = "concepts"
base_url = "http://127.0.0.1:${port}/v1"
api_key_env = "TEST_EMBED_KEY"
`,
  );
  d = await startDaemon({
    args: ['--routes-file', join(dir, 'routes.toml')],
    env: { TEST_EMBED_KEY: 'sk-test-embed' },
  });
});
after(async () => {
  await d?.kill();
  await d?.cleanup();
  await new Promise((r) => server?.close(r));
});

const search = async (q: string) =>
  (await http(d.url, 'GET', `/v1/sessions/sem/memory-search?query=${encodeURIComponent(q)}`)).body;

test('semantic search: off by default; on, a similar record is found without a shared word; failures fall back', async () => {
  await http(d.url, 'POST', '/v1/sessions', { session_id: 'sem' });
  const ids: Record<string, string> = {};
  for (const [k, content] of Object.entries({
    car: 'Fix the car brakes at the garage',
    food: 'Order pizza for the team lunch',
    travel: 'Renew the passport before the flight',
  })) {
    const r = await http(d.url, 'POST', '/v1/sessions/sem/runs', { content });
    ids[k] = (await waitForRun(d.url, r.body.run_id)).run_id;
  }
  const policy = await http(d.url, 'GET', '/v1/runtime/run-memory-policy');
  assert.deepEqual(policy.body.semantic_search, { enabled: false, route: null, model: null });
  assert.deepEqual((await search('automobile')).results, [], 'lexical only: no shared word, no result');
  assert.equal(seen.length, 0, 'no embedding call while it is off');

  const refused = await http(d.url, 'POST', '/v1/runtime/run-memory-policy', {
    policy: { semantic_search: { enabled: true, route: 'local', model: 'x' } },
  });
  assert.equal(refused.status, 400, refused.text);
  assert.equal(refused.body.code, 'invalid_run_memory_policy');
  const on = await http(d.url, 'POST', '/v1/runtime/run-memory-policy', {
    policy: { semantic_search: { enabled: true, route: 'embed', model: 'concepts' } },
  });
  assert.equal(on.status, 200, on.text);

  const found = await search('automobile');
  assert.equal(found.results[0]?.source_id, ids.car, JSON.stringify(found.results));
  assert.deepEqual(found.results[0].matched_fields, ['semantic']);
  assert.ok(found.results[0].score > 0 && found.results[0].score <= 1);
  assert.ok(!found.results.some((r: any) => r.source_id === ids.food), 'dissimilar records stay out');
  assert.equal(seen.at(-1).model, 'concepts');
  // A lexical hit that is also similar outranks a merely similar one.
  const both = await search('passport travel');
  assert.equal(both.results[0].source_id, ids.travel);
  assert.deepEqual(both.results[0].matched_fields, ['summary', 'request_preview', 'semantic']);
  // Item vectors are cached: a repeated query embeds nothing new.
  const calls = seen.length;
  await search('automobile');
  assert.equal(seen.length, calls);

  failing = true;
  const fallback = await search('vehicle pizza');
  assert.deepEqual(
    fallback.results.map((r: any) => r.source_id),
    [ids.food],
    'the server failing, ranking is lexical again',
  );
  const status = (await http(d.url, 'GET', '/v1/status')).body.run_memory;
  assert.ok(status.metrics.semantic_search_failures_total >= 1);
  assert.ok(typeof status.metrics.semantic_search_last_error === 'string');
  failing = false;
});
