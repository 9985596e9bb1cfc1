// emit_output and the generator tools (api-core §10, §3.7) in a real daemon: the model (OpenAI
// Responses wire server) calls the tool, the daemon stores outputs and assets, and a local server
// speaking OpenAI's images and speech APIs answers the generators through the real AI SDK. Runs on
// SQLite and, with KHEISH_TEST_STORE=postgres, on PostgreSQL.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { tinyPng, tinyWav } from '../fixtures/media/tiny-media.ts';
import { responsesToolOutputs } from '../fixtures/providers/responses-wire.ts';
import { http, waitForRun } from '../helpers/daemon.ts';
import { type MediaRig, startMediaRig } from '../helpers/multimodal-rig.ts';

let rig: MediaRig;
let calls = 0;
before(async () => {
  rig = await startMediaRig();
});
after(() => rig.close());

const b64 = (s: string | Buffer) => Buffer.from(s).toString('base64');

/** Runs one tool call on route `gpt` and returns the run and the tool's result as the model read it. */
async function callTool(
  sessionId: string,
  name: string,
  args: Record<string, unknown>,
  extra: Record<string, unknown> = {},
) {
  const created = await http(rig.d.url, 'POST', '/v1/sessions', { session_id: sessionId });
  assert.ok(created.status === 201 || created.status === 200, created.text);
  const callId = `call_${name}_${++calls}`;
  rig.openai.enqueue({ kind: 'tool_call', id: callId, name, args }, { kind: 'text', deltas: ['done'] });
  const before = rig.openai.requests.length;
  const res = await http(rig.d.url, 'POST', `/v1/sessions/${sessionId}/runs`, {
    provider: 'gpt',
    content: `please ${name}`,
    ...extra,
  });
  assert.equal(res.status, 202, res.text);
  const run = await waitForRun(rig.d.url, res.body.run_id);
  assert.equal(run.status, 'completed', JSON.stringify(run));
  const second = rig.openai.requests.slice(before).at(-1)!;
  const output = responsesToolOutputs(second.body).find((o) => o.call_id === callId)!;
  return { run, output: String(output.output) };
}

describe('emit_output', () => {
  test('an asset part is persisted as an attachment part; the output is on the run, the session and the event log', async () => {
    const base = rig.d.url;
    const imported = await http(base, 'POST', '/v1/assets', {
      file_name: 'report.txt',
      media_type: 'text/plain',
      content_base64: b64('quarterly numbers'),
    });
    const id = imported.body.asset_id;
    const { run } = await callTool('mm-emit', 'emit_output', {
      content: 'Here is the report',
      parts: [
        { type: 'text', text: 'Report attached:' },
        { type: 'asset', asset_id: id },
      ],
    });
    const emitted = run.outputs.find((o: any) => o.source_kind === 'emit_output');
    assert.ok(emitted, JSON.stringify(run.outputs));
    assert.equal(emitted.content, 'Here is the report');
    assert.deepEqual(emitted.parts, [
      { type: 'text', text: 'Report attached:' },
      { type: 'attachment', attachment: { id, media_type: 'text/plain', file_name: 'report.txt' } },
    ]);
    assert.deepEqual(emitted.artifacts, []);
    assert.equal(emitted.run_id, run.run_id);

    const refs = (await http(base, 'GET', `/v1/assets/${id}/references`)).body.references;
    assert.ok(
      refs.some(
        (r: any) =>
          r.domain === 'runs' && r.owner_id === run.run_id && r.role === 'output_attachment' && r.hard,
      ),
    );
    const events = (await http(base, 'GET', `/v1/runs/${run.run_id}/events`)).body;
    assert.ok(
      events.some((e: any) => e.event.type === 'output' && e.event.output.source_kind === 'emit_output'),
    );
    const session = (await http(base, 'GET', '/v1/sessions/mm-emit')).body;
    assert.ok(session.outputs.some((o: any) => o.source_kind === 'emit_output' && o.run_id === run.run_id));
  });

  test('artifacts, inline on request; no content falls back to the parts; nothing to emit is a tool error', async () => {
    const base = rig.d.url;
    const id = (
      await http(base, 'POST', '/v1/assets', {
        file_name: 'a.json',
        media_type: 'application/json',
        content_base64: b64('{"a":1}'),
      })
    ).body.asset_id;
    const { run } = await callTool('mm-artifacts', 'emit_output', {
      artifact_ids: [id],
      include_artifacts_inline: true,
    });
    const emitted = run.outputs.find((o: any) => o.source_kind === 'emit_output');
    const attachment = { id, media_type: 'application/json', file_name: 'a.json' };
    assert.deepEqual(emitted.artifacts, [attachment]);
    assert.deepEqual(emitted.parts, [{ type: 'attachment', attachment }]);
    assert.equal(emitted.content, `[attachment a.json (${id})]`);

    const empty = await callTool('mm-artifacts', 'emit_output', {});
    assert.match(
      empty.output,
      /emit_output: invalid arguments .*at least one of content, parts or artifact_ids/,
    );
    const unknown = await callTool('mm-artifacts', 'emit_output', {
      parts: [{ type: 'asset', asset_id: 'asset-missing' }],
    });
    assert.match(unknown.output, /assets\/asset_not_found/);
  });
});

describe('generator tools', () => {
  test('generate_image runs on the first route offering image_generation and stores each image as a run-referenced asset', async () => {
    const base = rig.d.url;
    const made = [tinyPng(8, 8, [20, 120, 220]), tinyPng(8, 8, [220, 20, 20])];
    rig.media.images = made;
    const { run, output } = await callTool('mm-gen', 'generate_image', {
      prompt: 'a blue square',
      count: 2,
      size: '1024x1024',
    });
    const result = JSON.parse(output);
    assert.equal(result.route_id, 'media');
    assert.equal(result.model, 'gpt-image-1');
    assert.equal(result.asset_ids.length, 2);
    const req = rig.media.requests.at(-1)!;
    assert.equal(req.path, '/v1/images/generations');
    assert.equal(req.headers.authorization, 'Bearer sk-test-openai');
    assert.deepEqual([req.json.prompt, req.json.n, req.json.size], ['a blue square', 2, '1024x1024']);
    for (const [i, id] of result.asset_ids.entries()) {
      // Round trip: the bytes the provider returned are the asset's raw bytes.
      const raw = await fetch(`${base}/v1/assets/${id}/raw`);
      assert.equal(raw.status, 200);
      assert.equal(raw.headers.get('content-type'), 'image/png');
      assert.deepEqual(Buffer.from(await raw.arrayBuffer()), made[i]);
      const refs = (await http(base, 'GET', `/v1/assets/${id}/references`)).body.references;
      assert.ok(refs.some((r: any) => r.owner_id === run.run_id && r.role === 'generated_output' && r.hard));
    }
  });

  test('edit_image sends the run’s input image to /v1/images/edits', async () => {
    const base = rig.d.url;
    const png = tinyPng(4, 4);
    const { output } = await callTool(
      'mm-edit',
      'edit_image',
      { prompt: 'make it red' },
      {
        content: '',
        input_items: undefined,
        attachments: [{ type: 'inline_asset', file_name: 'in.png', content_base64: png.toString('base64') }],
      },
    );
    const [edited] = JSON.parse(output).asset_ids;
    assert.equal((await http(base, 'GET', `/v1/assets/${edited}`)).body.media_type, 'image/png');
    const req = rig.media.requests.at(-1)!;
    assert.equal(req.path, '/v1/images/edits');
    assert.match(req.raw, /name="prompt"\r\n\r\nmake it red/);
  });

  test('generate_audio stores the speech as an asset whose /raw bytes are what the provider returned', async () => {
    const base = rig.d.url;
    const wav = tinyWav(120);
    rig.media.speech = { bytes: wav, contentType: 'audio/wav' };
    const { output } = await callTool('mm-tts', 'generate_audio', {
      input: 'hello there',
      format: 'wav',
      voice: 'nova',
    });
    const result = JSON.parse(output);
    assert.equal(result.model, 'gpt-4o-mini-tts');
    const req = rig.media.requests.at(-1)!;
    assert.equal(req.path, '/v1/audio/speech');
    assert.deepEqual(
      [req.json.input, req.json.voice, req.json.response_format],
      ['hello there', 'nova', 'wav'],
    );
    const raw = await fetch(`${base}/v1/assets/${result.asset_ids[0]}/raw`);
    assert.equal(raw.headers.get('content-type'), 'audio/wav');
    assert.deepEqual(Buffer.from(await raw.arrayBuffer()), wav);
  });

  test('a route without the capability is a clear tool error', async () => {
    const { output } = await callTool('mm-nocap', 'generate_image', { prompt: 'x', provider: 'claude' });
    assert.match(output, /generate_image: route `claude` does not offer image_generation/);
    const audio = await callTool('mm-nocap', 'generate_audio', { input: 'x', provider: 'nope' });
    assert.match(audio.output, /route `nope` is not configured/);
  });
});
