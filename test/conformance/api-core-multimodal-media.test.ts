// How each route receives each kind of file (api-core §3.6, concepts §4.6): PDF, DXF, audio and
// images through the real AI SDK providers against local wire servers (OpenAI Responses and Chat
// Completions, Anthropic, openai_compatible), plus the submit-time refusal of an image on a
// text-only route. Runs on SQLite and, with KHEISH_TEST_STORE=postgres, on PostgreSQL.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { tinyPng } from '../fixtures/media/tiny-media.ts';
import { http } from '../helpers/daemon.ts';
import { anthropicLastUser, type MediaRig, startMediaRig } from '../helpers/multimodal-rig.ts';
import { dxf, dxfLine, dxfText, pdf, wav } from '../unit/assets-media-fixtures.ts';
import { assertProblem, createSession, runCount } from './support.ts';

let rig: MediaRig;
before(async () => {
  rig = await startMediaRig();
});
after(() => rig.close());

describe('documents', () => {
  test('a PDF goes to Anthropic as a document part and to a text-only route as its extracted text', async () => {
    const base = rig.d.url;
    const sid = await createSession(base, 'mm-pdf');
    const doc = pdf(1, () => 'Quarterly revenue rose');
    const item = { type: 'inline_asset', file_name: 'q3.pdf', content_base64: doc.toString('base64') };
    rig.anthropic.enqueue({ kind: 'text', deltas: ['rose'] });
    const viaClaude = await http(base, 'POST', `/v1/sessions/${sid}/input`, {
      provider: 'claude',
      input_items: [{ type: 'text', text: 'What happened?' }, item],
    });
    assert.equal(viaClaude.status, 200, viaClaude.text);
    const content = anthropicLastUser(rig.anthropic);
    assert.deepEqual(
      content.map((c: any) => c.type),
      ['text', 'document'],
    );
    assert.deepEqual([content[1].source.type, content[1].source.media_type], ['base64', 'application/pdf']);
    assert.deepEqual(Buffer.from(content[1].source.data, 'base64'), doc);

    rig.compat.enqueue({ kind: 'text', deltas: ['rose'] });
    const viaCompat = await http(base, 'POST', `/v1/sessions/${sid}/input`, {
      provider: 'compat',
      input_items: [{ type: 'text', text: 'What happened?' }, item],
    });
    assert.equal(viaCompat.status, 200, viaCompat.text);
    const user = rig.compat.requests.at(-1)!.body.messages.at(-1);
    const sent =
      typeof user.content === 'string' ? user.content : user.content.map((c: any) => c.text).join('\n');
    assert.match(
      sent,
      /^What happened\?\n\[file q3\.pdf \(asset-[^)]+\), application\/pdf\]\n[\s\S]*Quarterly revenue rose/,
    );
  });

  test('a DXF plan goes to a vision route as its text plus its preview image, to a text-only route as text', async () => {
    const base = rig.d.url;
    const sid = await createSession(base, 'mm-dxf');
    const plan = dxf([...dxfLine(0, 0, 10, 0), ...dxfText('KITCHEN')]);
    const item = { type: 'inline_asset', file_name: 'plan.dxf', content_base64: plan.toString('base64') };
    rig.openai.enqueue({ kind: 'text', deltas: ['a wall'] });
    const viaGpt = await http(base, 'POST', `/v1/sessions/${sid}/input`, {
      provider: 'gpt',
      input_items: [item],
    });
    assert.equal(viaGpt.status, 200, viaGpt.text);
    const input = rig.openai.requests.at(-1)!.body.input.at(-1).content;
    assert.deepEqual(
      input.map((c: any) => c.type),
      ['input_text', 'input_image'],
    );
    assert.match(input[0].text, /^\[file plan\.dxf \(asset-[^)]+\), application\/dxf\]\n[\s\S]*KITCHEN/);
    assert.match(input[1].image_url, /^data:image\/png;base64,/);

    rig.compat.enqueue({ kind: 'text', deltas: ['a wall'] });
    const viaCompat = await http(base, 'POST', `/v1/sessions/${sid}/input`, {
      provider: 'compat',
      input_items: [item],
    });
    assert.equal(viaCompat.status, 200, viaCompat.text);
    const user = rig.compat.requests.at(-1)!.body.messages.at(-1);
    assert.ok(!JSON.stringify(user).includes('image'), 'no image part on a text-only route');
  });
});

describe('audio', () => {
  test('a WAV goes to OpenAI Chat Completions as input_audio; a route that cannot hear it gets a notice', async () => {
    const base = rig.d.url;
    const sid = await createSession(base, 'mm-audio');
    const sound = wav({ frames: 3200 });
    const item = {
      type: 'inline_asset',
      file_name: 'memo.wav',
      media_type: 'audio/wav',
      content_base64: sound.toString('base64'),
    };
    rig.openai.enqueue({ kind: 'text', deltas: ['heard'] });
    const viaChat = await http(base, 'POST', `/v1/sessions/${sid}/input`, {
      provider: 'gptchat',
      input_items: [{ type: 'text', text: 'Transcribe:' }, item],
    });
    assert.equal(viaChat.status, 200, viaChat.text);
    const req = rig.openai.requests.at(-1)!;
    assert.equal(req.path, '/v1/chat/completions');
    const content = req.body.messages.at(-1).content;
    assert.deepEqual(
      content.map((c: any) => c.type),
      ['text', 'input_audio'],
    );
    assert.equal(content[1].input_audio.format, 'wav');
    assert.deepEqual(Buffer.from(content[1].input_audio.data, 'base64'), sound);

    rig.anthropic.enqueue({ kind: 'text', deltas: ['cannot'] });
    const viaClaude = await http(base, 'POST', `/v1/sessions/${sid}/input`, {
      provider: 'claude',
      input_items: [{ type: 'text', text: 'Transcribe:' }, item],
    });
    assert.equal(viaClaude.status, 200, viaClaude.text);
    const [text] = anthropicLastUser(rig.anthropic);
    assert.match(
      text.text,
      /^Transcribe:\n\[audio memo\.wav \(asset-[^)]+\): this route cannot hear audio and it has no transcript\]$/,
    );
  });
});

describe('images', () => {
  test('an inline image reaches OpenAI Responses as an input_image data URL and Anthropic as a base64 image source', async () => {
    const base = rig.d.url;
    const png = tinyPng(6, 6);
    const sid = await createSession(base, 'mm-image');
    const item = {
      type: 'inline_asset',
      file_name: 'red.png',
      media_type: 'image/png',
      content_base64: png.toString('base64'),
    };
    rig.openai.enqueue({ kind: 'text', deltas: ['a red square'] });
    const viaGpt = await http(base, 'POST', `/v1/sessions/${sid}/input`, {
      provider: 'gpt',
      input_items: [{ type: 'text', text: 'What is this?' }, item],
    });
    assert.equal(viaGpt.status, 200, viaGpt.text);
    const input = rig.openai.requests.at(-1)!.body.input.at(-1).content;
    assert.deepEqual(
      input.map((c: any) => c.type),
      ['input_text', 'input_image'],
    );
    assert.match(input[1].image_url, /^data:image\/(png|jpeg);base64,[A-Za-z0-9+/]+=*$/);

    rig.anthropic.enqueue({ kind: 'text', deltas: ['red'] });
    const viaClaude = await http(base, 'POST', `/v1/sessions/${sid}/input`, {
      provider: 'claude',
      input_items: [item, { type: 'text', text: 'Colour?' }],
    });
    assert.equal(viaClaude.status, 200, viaClaude.text);
    const content = anthropicLastUser(rig.anthropic);
    assert.deepEqual(
      content.map((c: any) => c.type),
      ['image', 'text'],
    );
    assert.equal(content[0].source.type, 'base64');
    assert.match(content[0].source.media_type, /^image\/(png|jpeg)$/);
  });

  test('an image on a text-only route is refused at submit (400 routes/route_capability_missing), nothing created', async () => {
    const base = rig.d.url;
    const png = tinyPng(3, 3);
    const sid = await createSession(base, 'mm-text-only');
    const res = await http(base, 'POST', `/v1/sessions/${sid}/runs`, {
      provider: 'compat',
      input_items: [
        { type: 'text', text: 'see' },
        {
          type: 'inline_asset',
          file_name: 'p.png',
          media_type: 'image/png',
          content_base64: png.toString('base64'),
        },
      ],
    });
    assertProblem(res, 400, 'routes', 'route_capability_missing');
    assert.equal(await runCount(base, sid), 0);
  });

  test('after a fallback to a text-only route, the image becomes a notice for that route', async () => {
    const base = rig.d.url;
    const sid = await createSession(base, 'mm-fallback');
    const png = tinyPng(5, 5);
    rig.openai.enqueue({ kind: 'error', status: 500, message: 'down' });
    rig.compat.enqueue({ kind: 'text', deltas: ['cannot see it'] });
    const res = await http(base, 'POST', `/v1/sessions/${sid}/input`, {
      provider: 'gptfb',
      input_items: [
        { type: 'text', text: 'Describe:' },
        { type: 'inline_asset', file_name: 'pic.png', content_base64: png.toString('base64') },
      ],
    });
    assert.equal(res.status, 200, res.text);
    const user = rig.compat.requests.at(-1)!.body.messages.at(-1);
    const sent =
      typeof user.content === 'string' ? user.content : user.content.map((c: any) => c.text).join('\n');
    assert.match(sent, /^Describe:\n\[image pic\.png \(asset-[^)]+\): this route cannot see images\]$/);
  });
});
