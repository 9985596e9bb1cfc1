// createProviderDriver and the base_url rule.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  apiRoot,
  createProviderDriver,
  PROVIDER_DRIVERS,
  ProviderConfigError,
} from '../../src/models/drivers/index.ts';
import { route } from './contract-suite.ts';

test('apiRoot keeps explicit paths and completes a bare origin with the version path', () => {
  assert.equal(apiRoot(undefined, '/v1'), undefined);
  assert.equal(apiRoot('https://api.anthropic.com', '/v1'), 'https://api.anthropic.com/v1');
  assert.equal(apiRoot('https://api.anthropic.com/', '/v1'), 'https://api.anthropic.com/v1');
  assert.equal(apiRoot('http://127.0.0.1:11434/v1/', '/v1'), 'http://127.0.0.1:11434/v1');
  assert.equal(apiRoot('https://gw.example.com/openai/v1', '/v1'), 'https://gw.example.com/openai/v1');
});

test('every provider driver is built from a route, with its name', () => {
  assert.deepEqual(PROVIDER_DRIVERS.sort(), [
    'anthropic',
    'google',
    'openai',
    'openai_compatible',
    'openrouter',
    'xai',
  ]);
  for (const driver of PROVIDER_DRIVERS)
    assert.equal(
      createProviderDriver(route(driver as any, 'http://127.0.0.1:9/v1'), { apiKey: 'k' }).name,
      driver,
    );
});

test('scripted is not a provider driver', () => {
  assert.throws(() => createProviderDriver(route('scripted', 'http://x'), {}), ProviderConfigError);
});
