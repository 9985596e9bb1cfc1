// The generator tools' image and speech models (models/media-models.ts) against a local server
// speaking OpenAI's images and speech wire formats, through the real AI SDK and @ai-sdk/openai.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { generateImage, generateSpeech } from 'ai';
import { createMediaModels } from '../../src/models/media-models.ts';
import { tinyPng, tinyWav } from '../fixtures/media/tiny-media.ts';
import { type MediaServer, startOpenAiMediaServer } from '../fixtures/providers/openai-media-server.ts';
import { route } from './contract-suite.ts';

describe('OpenAI image and speech models', () => {
  let server: MediaServer;
  const png = tinyPng(8, 8);
  const wav = tinyWav(50);
  before(async () => {
    server = await startOpenAiMediaServer({
      images: [png],
      speech: { bytes: wav, contentType: 'audio/wav' },
    });
  });
  after(() => server.close());

  test('generateImage posts JSON to /v1/images/generations and returns the PNG bytes', async () => {
    const models = createMediaModels(route('openai', server.origin), { apiKey: 'sk-img' });
    const result = await generateImage({
      model: await models.image('gpt-image-1'),
      prompt: 'a red square',
      n: 2,
      size: '1024x1024',
      maxRetries: 0,
    });
    const req = server.requests.at(-1)!;
    assert.equal(req.path, '/v1/images/generations');
    assert.equal(req.headers.authorization, 'Bearer sk-img');
    assert.equal(req.json.prompt, 'a red square');
    assert.equal(req.json.n, 2);
    assert.equal(req.json.size, '1024x1024');
    assert.equal(result.images.length, 2);
    assert.deepEqual(Buffer.from(result.images[0]!.uint8Array), png);
    assert.equal(result.images[0]!.mediaType, 'image/png');
  });

  test('an edit posts multipart to /v1/images/edits with the source image and the prompt', async () => {
    const models = createMediaModels(route('openai', server.origin), { apiKey: 'sk-img' });
    const result = await generateImage({
      model: await models.image('gpt-image-1'),
      prompt: { images: [png], text: 'make it blue' },
      maxRetries: 0,
    });
    const req = server.requests.at(-1)!;
    assert.equal(req.path, '/v1/images/edits');
    assert.match(String(req.headers['content-type']), /^multipart\/form-data; boundary=/);
    assert.match(req.raw, /name="prompt"\r\n\r\nmake it blue/);
    assert.ok(req.raw.includes(png.toString('latin1')), 'the source PNG travels in the multipart body');
    assert.equal(result.images.length, 1);
  });

  test('generateSpeech posts JSON to /v1/audio/speech and returns the audio bytes', async () => {
    const models = createMediaModels(route('openai', server.origin), { apiKey: 'sk-tts' });
    const result = await generateSpeech({
      model: await models.speech('gpt-4o-mini-tts'),
      text: 'hello there',
      voice: 'alloy',
      outputFormat: 'wav',
      speed: 1.25,
      instructions: 'calm',
      maxRetries: 0,
    });
    const req = server.requests.at(-1)!;
    assert.equal(req.path, '/v1/audio/speech');
    assert.deepEqual(
      [
        req.json.model,
        req.json.input,
        req.json.voice,
        req.json.response_format,
        req.json.speed,
        req.json.instructions,
      ],
      ['gpt-4o-mini-tts', 'hello there', 'alloy', 'wav', 1.25, 'calm'],
    );
    assert.deepEqual(Buffer.from(result.audio.uint8Array), wav);
  });

  test('only the OpenAI driver has media adapters here', () => {
    assert.throws(
      () => createMediaModels(route('anthropic', server.origin), { apiKey: 'k' }),
      /no image or speech adapter/,
    );
  });
});
