// One provider-neutral user message with files (text, image, text, PDF), encoded by the real AI SDK
// providers against local wire servers: the order holds and each provider gets its own shape
// (OpenAI Responses `input_image`/`input_file`, Chat Completions `image_url`/`file`, Anthropic
// `image`/`document` base64 sources). The rendering rules per route are checked on assetEncoding.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { assetEncoding, routeHas } from '../../src/models/capabilities.ts';
import type { ChatMessage } from '../../src/models/driver.ts';
import { createProviderDriver, OPENAI_API_EXTRA_KEY } from '../../src/models/drivers/index.ts';
import { startAnthropicServer } from '../fixtures/providers/anthropic-server.ts';
import type { FixtureServer } from '../fixtures/providers/harness.ts';
import { startOpenAiServer } from '../fixtures/providers/openai-server.ts';
import { request, route } from './contract-suite.ts';

const PNG = Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex').toString('base64');
const PDF = Buffer.from('%PDF-1.4\n%fixture\n').toString('base64');

const message: ChatMessage = {
  role: 'user',
  content: 'look at this\nand this document',
  parts: [
    { type: 'text', text: 'look at this' },
    { type: 'image', asset_id: 'asset-img', file_name: 'cat.png', media_type: 'image/png', data_base64: PNG },
    { type: 'text', text: 'and this document' },
    {
      type: 'file',
      asset_id: 'asset-pdf',
      file_name: 'spec.pdf',
      media_type: 'application/pdf',
      data_base64: PDF,
    },
  ],
};

describe('multimodal encoding on the wire', () => {
  let openai: FixtureServer;
  let anthropic: FixtureServer;
  before(async () => {
    openai = await startOpenAiServer();
    anthropic = await startAnthropicServer();
  });
  after(async () => {
    await openai.close();
    await anthropic.close();
  });

  test('OpenAI Responses: input_text, input_image (data URL), input_text, input_file, in order', async () => {
    const driver = createProviderDriver(route('openai', `${openai.origin}/v1`), { apiKey: 'k' });
    openai.enqueue({ kind: 'text', deltas: ['seen'] });
    const res = await driver.call(request('gpt-4.1-mini', [message]));
    assert.equal(res.text, 'seen');
    const content = openai.requests.at(-1)!.body.input.at(-1).content;
    assert.deepEqual(
      content.map((c: any) => c.type),
      ['input_text', 'input_image', 'input_text', 'input_file'],
    );
    assert.equal(content[1].image_url, `data:image/png;base64,${PNG}`);
    assert.equal(content[3].filename, 'spec.pdf');
    assert.equal(content[3].file_data, `data:application/pdf;base64,${PDF}`);
  });

  test('OpenAI Chat Completions: image_url data URL and file part, in order', async () => {
    const driver = createProviderDriver(
      route('openai', `${openai.origin}/v1`, { [OPENAI_API_EXTRA_KEY]: 'chat' }),
      { apiKey: 'k' },
    );
    openai.enqueue({ kind: 'text', deltas: ['seen'] });
    await driver.call(request('gpt-4.1-mini', [message]));
    const body = openai.requests.at(-1)!.body;
    assert.equal(openai.requests.at(-1)!.path, '/v1/chat/completions');
    const content = body.messages.at(-1).content;
    assert.deepEqual(
      content.map((c: any) => c.type),
      ['text', 'image_url', 'text', 'file'],
    );
    assert.equal(content[1].image_url.url, `data:image/png;base64,${PNG}`);
    assert.equal(content[3].file.filename, 'spec.pdf');
  });

  test('Anthropic: text, image (base64 source), text, document (base64 PDF), in order', async () => {
    const driver = createProviderDriver(route('anthropic', `${anthropic.origin}/v1`), { apiKey: 'k' });
    anthropic.enqueue({ kind: 'text', deltas: ['seen'] });
    await driver.call(request('claude-sonnet-4-6', [message]));
    const content = anthropic.requests.at(-1)!.body.messages.at(-1).content;
    assert.deepEqual(
      content.map((c: any) => c.type),
      ['text', 'image', 'text', 'document'],
    );
    assert.deepEqual(content[1].source, { type: 'base64', media_type: 'image/png', data: PNG });
    assert.equal(content[3].source.type, 'base64');
    assert.equal(content[3].source.media_type, 'application/pdf');
    assert.equal(content[3].source.data, PDF);
  });

  test('an asset part nobody rendered reaches the provider as a notice, never silently dropped', async () => {
    const driver = createProviderDriver(route('anthropic', `${anthropic.origin}/v1`), { apiKey: 'k' });
    anthropic.enqueue({ kind: 'text', deltas: ['ok'] });
    await driver.call(
      request('claude-sonnet-4-6', [
        {
          role: 'user',
          content: 'x',
          parts: [
            { type: 'text', text: 'x' },
            { type: 'asset', asset_id: 'asset-9' },
          ],
        },
      ]),
    );
    const content = anthropic.requests.at(-1)!.body.messages.at(-1).content;
    assert.equal(content.length, 1);
    assert.match(content[0].text, /^x\n\[asset asset-9: not available/);
  });
});

describe('asset encoding per route', () => {
  test('vision routes take images; PDFs as files only on anthropic, openai, google; audio only where the wire takes it', () => {
    const anthropic = assetEncoding(route('anthropic', 'http://x'));
    assert.deepEqual(
      [anthropic.images, anthropic.pdf_files, anthropic.audio_file('audio/wav')],
      [true, true, false],
    );
    const xai = assetEncoding(route('xai', 'http://x'));
    assert.deepEqual([xai.images, xai.pdf_files], [true, false]);
    const chat = assetEncoding(route('openai', 'http://x', { openai_api: 'chat' }));
    assert.deepEqual([chat.audio_file('audio/wav'), chat.audio_file('audio/flac')], [true, false]);
    assert.equal(assetEncoding(route('openai', 'http://x')).audio_file('audio/wav'), false);
    assert.equal(assetEncoding(route('google', 'http://x')).audio_file('audio/flac'), true);
  });

  test('text-only routes (scripted, openai_compatible) take nothing but text, unless the routes file says otherwise', () => {
    for (const driver of ['scripted', 'openai_compatible'] as const) {
      const enc = assetEncoding(route(driver, 'http://x'));
      assert.deepEqual([enc.images, enc.pdf_files, enc.audio_file('audio/wav')], [false, false, false]);
    }
    const vision = { ...route('openai_compatible', 'http://x'), capabilities: { multimodal_input: true } };
    assert.equal(routeHas(vision, 'multimodal_input'), true);
    assert.equal(assetEncoding(vision).images, true);
    const blind = { ...route('anthropic', 'http://x'), capabilities: { multimodal_input: false } };
    assert.deepEqual([assetEncoding(blind).images, assetEncoding(blind).pdf_files], [false, false]);
  });
});
