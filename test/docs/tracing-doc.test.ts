// docs/tracing.md, followed as written: the page's OTEL_* lines configure a real daemon (its
// endpoint pointed at a local OTLP/HTTP receiver), the page's curl submit is sent as written
// (plus a reply target), and what the page says is checked: the status section, the caller's
// trace continued, the span names and GenAI attributes, and the traceparent carried to an HTTP
// hook, a command hook and the http delivery plugin.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import { BIN, http, startDaemon, tempDir, waitForRun } from '../helpers/daemon.ts';
import { setHooks } from '../hooks/hook-scripts.ts';
import { startReceiver, until } from '../telemetry/otlp-receiver.ts';
import { fencedBlocks } from './markdown.ts';

const DOC = resolve(import.meta.dirname, '../../docs/tracing.md');
const text = readFileSync(DOC, 'utf8');
const blocks = fencedBlocks('docs/tracing.md', text);

test('docs/tracing.md: the OTEL_* setup, the traceparent submit and the span table hold', async () => {
  const setup = blocks.find((b) => b.lang === 'sh' && b.body.includes('export OTEL_'))!;
  assert.match(setup.body, /^kheish-daemon serve /m);
  const receiver = await startReceiver();
  const env: Record<string, string> = {};
  for (const m of setup.body.matchAll(/^export (OTEL_\w+)=(\S+)$/gm)) env[m[1]!] = m[2]!;
  assert.ok(env.OTEL_EXPORTER_OTLP_ENDPOINT, 'the page sets an endpoint');
  env.OTEL_EXPORTER_OTLP_ENDPOINT = receiver.origin;
  const d = await startDaemon({
    script: {
      default: {
        turns: [
          {
            tool_calls: [{ name: 'list_files', arguments: { path: '.' } }],
            usage: { input_tokens: 5, output_tokens: 2 },
          },
          { text: 'listed', usage: { input_tokens: 9, output_tokens: 1 } },
        ],
      },
    },
    args: ['--workspace-root', tempDir('kheish-tracing-doc-ws-')],
    env: {
      ...env,
      OTEL_BSP_SCHEDULE_DELAY: '100',
      KHEISH_TEST_HOOK_ALLOW_TARGETS: `127.0.0.1:${receiver.port}`,
    },
  });
  const marker = join(tempDir('kheish-tracing-doc-'), 'traceparent');
  try {
    const statusBlock = blocks.find((b) => b.lang === 'json' && b.body.includes('"tracing"'))!;
    const status = (await http(d.url, 'GET', '/v1/status')).body;
    assert.deepEqual({ tracing: status.tracing }, JSON.parse(statusBlock.body));
    assert.equal(
      (
        await setHooks(d.url, {
          pre_tool_use: [{ name: 'http-audit', executor: { type: 'http', url: `${receiver.origin}/hook` } }],
          post_tool_use: [
            {
              name: 'cmd-audit',
              executor: { type: 'command', command: `printf %s "$TRACEPARENT" > ${marker}` },
            },
          ],
        })
      ).status,
      200,
    );

    // The page's curl line, as written (session, header, body), plus a reply target.
    const curl = blocks.find((b) => b.lang === 'sh' && b.body.includes('traceparent:'))!.body;
    const path = /http:\/\/[^/\s]+(\/v1\/sessions\/(\w+)\/runs)/.exec(curl)!;
    const traceparent = /-H 'traceparent: ([^']+)'/.exec(curl)![1]!;
    const body = JSON.parse(/-d '([^']+)'/.exec(curl)![1]!);
    const [, docTrace, docSpan] = traceparent.split('-');
    await http(d.url, 'POST', '/v1/sessions', { session_id: path[2] });
    const res = await fetch(`${d.url}${path[1]}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', traceparent },
      body: JSON.stringify({
        ...body,
        reply_targets: [{ type: 'http', url: `${receiver.origin}/reply`, allow_private_network: true }],
      }),
    });
    assert.equal(res.status, 202);
    const run = (await res.json()) as { run_id: string };
    assert.equal((await waitForRun(d.url, run.run_id)).status, 'completed');
    await until(
      () =>
        receiver.spans.some((s) => s.name.startsWith('invoke_agent')) &&
        receiver.spans.some((s) => s.name.startsWith('deliver ')),
      'the root and delivery spans',
    );
    const spans = receiver.spans;
    const root = spans.find((s) => s.name.startsWith('invoke_agent'))!;
    assert.equal(root.traceId, docTrace, "the run's trace is the caller's");
    assert.equal(root.parentSpanId, docSpan, "the run's root is a child of the caller's span");
    for (const s of spans.filter((x) => x.traceId !== docTrace)) assert.fail(`${s.name} in another trace`);

    // The span names of the page's tree, and every gen_ai.* attribute its table names.
    const names = new Set(spans.map((s) => s.name));
    for (const want of [
      'chat scripted',
      'permission list_files',
      'hook pre_tool_use',
      'execute_tool list_files',
      'hook post_tool_use',
      'deliver http',
    ])
      assert.ok(names.has(want), `${want} in ${[...names].join(', ')}`);
    const parent = (name: string) => spans.find((s) => s.name === name)!.parentSpanId;
    assert.equal(parent('hook pre_tool_use'), root.spanId);
    assert.equal(
      parent('hook post_tool_use'),
      spans.find((s) => s.name === 'execute_tool list_files')!.spanId,
      'post-tool hooks run inside the tool span',
    );
    const table = text.slice(text.indexOf('| span | kind |'), text.indexOf('Model call spans follow'));
    const keys = new Set([...table.matchAll(/`(gen_ai\.[\w.]+)`/g)].map((m) => m[1]!));
    assert.ok(keys.size >= 10);
    for (const key of keys)
      assert.ok(
        spans.some((s) => s.attributes[key] !== undefined),
        `${key} is on an exported span`,
      );
    const chat = spans.find((s) => s.name === 'chat scripted')!;
    assert.equal(chat.attributes['gen_ai.request.temperature'], body.generation.temperature);
    assert.equal(chat.attributes['gen_ai.request.max_tokens'], body.generation.max_output_tokens);

    // Carried out: the HTTP hook's header, the command hook's TRACEPARENT, the reply URL's header.
    const traceOf = (v: unknown) => String(v).split('-')[1];
    const hook = receiver.others.find((o) => o.path === '/hook')!;
    assert.equal(traceOf(hook.headers.traceparent), docTrace);
    assert.equal(traceOf(readFileSync(marker, 'utf8')), docTrace);
    await until(() => receiver.others.some((o) => o.path === '/reply'), 'the reply delivery');
    const reply = receiver.others.find((o) => o.path === '/reply')!;
    const [, replyTrace, replySpan] = String(reply.headers.traceparent).split('-');
    assert.equal(replyTrace, docTrace);
    assert.equal(spans.find((s) => s.name === 'deliver http')!.spanId, replySpan);
    assert.equal(spans.find((s) => s.name === 'execute_tool list_files')!.status.code ?? 0, 0);

    // The page's CLI line: TRACEPARENT in the environment becomes the submit's header.
    const cliLine = blocks
      .filter((b) => b.lang === 'sh')
      .flatMap((b) => b.body.split('\n'))
      .find((l) => l.startsWith('TRACEPARENT='))!;
    const [assignment, ...rest] = cliLine.split(' ');
    const cliParent = assignment!.slice('TRACEPARENT='.length);
    const words = [
      ...rest
        .slice(1)
        .join(' ')
        .matchAll(/"([^"]*)"|(\S+)/g),
    ].map((m) => m[1] ?? m[2]!);
    const out = spawnSync(BIN, ['--base-url', d.url, '--output', 'json', ...words], {
      encoding: 'utf8',
      env: { ...process.env, TRACEPARENT: cliParent },
    });
    assert.equal(out.status, 0, out.stderr);
    const cliRun = JSON.parse(out.stdout).run_id as string;
    await waitForRun(d.url, cliRun);
    await until(
      () => receiver.spans.some((s) => s.attributes['kheish.run.id'] === cliRun),
      'the CLI run root',
    );
    const cliRoot = receiver.spans.find(
      (s) => s.name.startsWith('invoke_agent') && s.attributes['kheish.run.id'] === cliRun,
    )!;
    assert.equal(cliRoot.traceId, cliParent.split('-')[1]);
    assert.equal(cliRoot.parentSpanId, cliParent.split('-')[2]);
  } finally {
    await d.kill();
    await d.cleanup();
    await receiver.close();
  }
});
