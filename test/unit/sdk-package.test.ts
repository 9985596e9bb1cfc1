// The SDK as a package: `kheish-daemon/sdk` resolves to it; every file it loads stays inside
// src/sdk, imports nothing from Node (no `node:` modules, no process/Buffer/require), so it runs in
// browsers too; and the small pure pieces (environment, routes, answers, output text) behave.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { test } from 'node:test';
import * as pkg from 'kheish-daemon/sdk';
import {
  approvalBatch,
  Kheish,
  outputText,
  questionResolution,
  Route,
  routeFields,
} from '../../src/sdk/index.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const SDK = join(ROOT, 'src', 'sdk');
/** Third-party modules the SDK may load: pure JavaScript that browsers run. */
const ALLOWED_PACKAGES = new Set(['zod']);
const NODE_ONLY = [
  /(?<![.\w$])process\./,
  /(?<![.\w$])Buffer\b/,
  /(?<![.\w$])require\(/,
  /\b__dirname\b|\b__filename\b/,
  /(?<![.\w$])setImmediate\(/,
];

const stripComments = (src: string) =>
  src.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:])\/\/.*$/gm, '$1');

function importGraph(entry: string): { files: string[]; packages: Set<string> } {
  const files: string[] = [];
  const packages = new Set<string>();
  const todo = [entry];
  while (todo.length) {
    const file = todo.pop()!;
    if (files.includes(file)) continue;
    files.push(file);
    const src = readFileSync(file, 'utf8');
    for (const m of src.matchAll(/^\s*(?:import|export)\s[^;]*?from\s+'([^']+)'|^\s*import\s+'([^']+)'/gm)) {
      const spec = (m[1] ?? m[2])!;
      if (spec.startsWith('.')) todo.push(resolve(dirname(file), spec));
      else packages.add(spec);
    }
  }
  return { files, packages };
}

test('kheish-daemon/sdk (package.json exports) is src/sdk/index.ts', async () => {
  const manifest = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
  assert.equal(manifest.exports['./sdk'], './src/sdk/index.ts');
  const direct = await import('../../src/sdk/index.ts');
  assert.equal(pkg.Kheish, direct.Kheish);
  assert.equal(pkg.DaemonProblemError, direct.DaemonProblemError);
});

test('the SDK loads only its own files and browser-safe packages, and uses no Node-only globals', () => {
  const { files, packages } = importGraph(join(SDK, 'index.ts'));
  assert.ok(files.length > 10, `${files.length} files`);
  const outside = files.filter((f) => relative(SDK, f).startsWith('..'));
  assert.deepEqual(outside, [], 'files outside src/sdk');
  assert.deepEqual(
    [...packages].filter((p) => !ALLOWED_PACKAGES.has(p)),
    [],
    'packages other than the allowed ones (node: modules included)',
  );
  const uses = files.flatMap((f) => {
    const src = stripComments(readFileSync(f, 'utf8'));
    return NODE_ONLY.filter((re) => re.test(src)).map((re) => `${relative(ROOT, f)}: ${re}`);
  });
  assert.deepEqual(uses, []);
});

test('fromEnv: KHEISH_BASE_URL and KHEISH_TOKEN, from process.env by default, else the default URL', () => {
  assert.equal(Kheish.fromEnv({}).baseUrl, 'http://127.0.0.1:4000');
  const k = Kheish.fromEnv({ KHEISH_BASE_URL: 'https://kheish.example/', KHEISH_TOKEN: 't0k' });
  assert.deepEqual([k.baseUrl, k.http.token], ['https://kheish.example', 't0k']);
  assert.equal(Kheish.fromEnv({ KHEISH_TOKEN: '' }).http.token, undefined);
  const saved = process.env.KHEISH_BASE_URL;
  process.env.KHEISH_BASE_URL = 'http://127.0.0.1:4999';
  try {
    assert.equal(Kheish.fromEnv().baseUrl, 'http://127.0.0.1:4999');
  } finally {
    if (saved === undefined) delete process.env.KHEISH_BASE_URL;
    else process.env.KHEISH_BASE_URL = saved;
  }
  assert.throws(() => new Kheish({ baseUrl: 'ftp://x' }), TypeError);
});

test('routes become provider + generation.model; answers and approvals their wire bodies', () => {
  assert.deepEqual(Route.openai('gpt-5.4'), { provider: 'openai', model: 'gpt-5.4' });
  assert.deepEqual(Route.of('local'), { provider: 'local' });
  assert.deepEqual(routeFields('local'), { provider: 'local' });
  assert.deepEqual(routeFields(Route.anthropic('claude'), { temperature: 0.2 }), {
    provider: 'anthropic',
    generation: { temperature: 0.2, model: 'claude' },
  });
  assert.deepEqual(routeFields(undefined, { temperature: 0 }), { generation: { temperature: 0 } });
  assert.deepEqual(questionResolution('q1', { color: ['blue'], why: 'because' }, { idempotency_key: 'k' }), {
    idempotency_key: 'k',
    resolution: {
      request_id: 'q1',
      declined: false,
      answers: [
        { question_id: 'color', selected_option_ids: ['blue'] },
        { question_id: 'why', selected_option_ids: [], freeform_answer: 'because' },
      ],
    },
  });
  assert.deepEqual(questionResolution('q1', 'declined').resolution, {
    request_id: 'q1',
    answers: [],
    declined: true,
  });
  assert.deepEqual(approvalBatch(['a1', 'a2'], 'deny', { reason: 'no' }), {
    resolutions: [
      { request_id: 'a1', behavior: 'deny', reason: 'no' },
      { request_id: 'a2', behavior: 'deny', reason: 'no' },
    ],
  });
  const run = { run_id: 'r', session_id: 's', status: 'completed' };
  assert.equal(
    outputText({ ...run, outputs: [{ content: 'one' }, { content: '' }, { content: 'two' }] }),
    'one\n\ntwo',
  );
  assert.equal(outputText(run), '');
});
