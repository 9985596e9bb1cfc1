// The SDK's input item builders: base64 equal to Node's for every byte value and across chunk
// boundaries, UTF-8 for strings, and the wire shapes of api-core §3.6.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { assetReference, bytesToBase64, inlineAsset, textItem } from '../../src/sdk/index.ts';

test('bytesToBase64 matches Buffer for all byte values and past the 32 KiB chunk', () => {
  const all = Uint8Array.from({ length: 256 }, (_, i) => i);
  assert.equal(bytesToBase64(all), Buffer.from(all).toString('base64'));
  const big = Uint8Array.from({ length: 0x8000 * 2 + 17 }, (_, i) => (i * 31) % 256);
  assert.equal(bytesToBase64(big), Buffer.from(big).toString('base64'));
  assert.equal(bytesToBase64(new Uint8Array()), '');
});

test('inlineAsset, assetReference and textItem build the wire items', () => {
  assert.deepEqual(inlineAsset('n.md', 'é', 'text/markdown'), {
    type: 'inline_asset',
    file_name: 'n.md',
    content_base64: Buffer.from('é').toString('base64'),
    media_type: 'text/markdown',
  });
  assert.equal('media_type' in inlineAsset('a.png', new Uint8Array([1])), false);
  assert.deepEqual(assetReference('asset-1'), { type: 'asset_reference', asset_id: 'asset-1' });
  assert.deepEqual(textItem('hi'), { type: 'text', text: 'hi' });
});
