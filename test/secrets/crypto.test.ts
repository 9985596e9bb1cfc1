import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import { inspect } from 'node:util';
import { generateMasterKeyText, MasterKey, seal, unseal } from '../../src/secrets/crypto.ts';
import { SecretIntegrityError } from '../../src/secrets/errors.ts';
import { parseMasterKey } from '../../src/secrets/master-key.ts';

const key = () => new MasterKey(randomBytes(32), 'test');

/** Flips one bit of the decoded part `index` (1 nonce, 2 ciphertext, 3 tag) of an envelope. */
function flip(envelope: string, index: number, at = 0): string {
  const parts = envelope.split('.');
  const bytes = Buffer.from(parts[index]!, 'base64url');
  bytes[at % bytes.length] = bytes[at % bytes.length]! ^ 0x01;
  parts[index] = bytes.toString('base64url');
  return parts.join('.');
}

describe('secret crypto (AES-256-GCM envelopes)', () => {
  test('round trip, including unicode and an empty string', () => {
    const k = key();
    for (const text of ['sk-live-abc', '', 'pässwörd ✓ 🔑', 'x'.repeat(10_000)]) {
      assert.equal(unseal(k, seal(k, text, 'slot:a'), 'slot:a'), text);
    }
  });

  test('every seal uses a fresh nonce: the same value never gives the same envelope', () => {
    const k = key();
    const a = seal(k, 'same', 'slot:a');
    const b = seal(k, 'same', 'slot:a');
    assert.notEqual(a, b);
    assert.notEqual(a.split('.')[1], b.split('.')[1]);
    assert.equal(Buffer.from(a.split('.')[1]!, 'base64url').length, 12);
  });

  test('the envelope does not contain the plaintext', () => {
    const k = key();
    const envelope = seal(k, 'sk-live-PLAINTEXT-MARKER', 'slot:a');
    assert.ok(!envelope.includes('PLAINTEXT'));
    assert.ok(!Buffer.from(envelope.split('.')[2]!, 'base64url').toString('latin1').includes('PLAINTEXT'));
  });

  test('tamper detection: flipping any bit of nonce, ciphertext or tag fails', () => {
    const k = key();
    const envelope = seal(k, 'sk-live-0123456789', 'slot:a');
    for (const part of [1, 2, 3]) {
      for (const at of [0, 5, 11]) {
        assert.throws(() => unseal(k, flip(envelope, part, at), 'slot:a'), SecretIntegrityError);
      }
    }
  });

  test('truncated, extended or malformed envelopes fail', () => {
    const k = key();
    const envelope = seal(k, 'sk-live-0123456789', 'slot:a');
    const parts = envelope.split('.');
    const shortBody = [parts[0], parts[1], parts[2]!.slice(0, -2), parts[3]].join('.');
    for (const bad of [
      '',
      'v1',
      envelope.slice(0, -3),
      `${envelope}AA`,
      shortBody,
      envelope.replace(/^v1/, 'v2'),
      parts.slice(0, 3).join('.'),
    ]) {
      assert.throws(() => unseal(k, bad, 'slot:a'), SecretIntegrityError, bad);
    }
  });

  test('slot swap: a ciphertext sealed for one slot does not open as another', () => {
    const k = key();
    const forA = seal(k, 'key-of-a', 'kheish:auth-slot:v1:openai.prod');
    assert.throws(() => unseal(k, forA, 'kheish:auth-slot:v1:anthropic.prod'), SecretIntegrityError);
  });

  test('a different master key cannot open the envelope', () => {
    const envelope = seal(key(), 'secret', 'slot:a');
    assert.throws(() => unseal(key(), envelope, 'slot:a'), SecretIntegrityError);
  });

  test('integrity errors name the slot, never the value or the node:crypto internals', () => {
    const k = key();
    try {
      unseal(k, flip(seal(k, 'sk-hidden-value', 'slot:a'), 2), 'slot:a', 'secret slot a');
      assert.fail('expected an integrity error');
    } catch (err) {
      assert.ok(err instanceof SecretIntegrityError);
      assert.match(err.message, /secret slot a failed its integrity check/);
      assert.ok(!err.message.includes('sk-hidden-value'));
    }
  });

  test('generate prints 44 characters of padded standard base64 decoding to 32 bytes', () => {
    const text = generateMasterKeyText();
    assert.match(text, /^[A-Za-z0-9+/]{43}=$/);
    assert.equal(Buffer.from(text, 'base64').length, 32);
    assert.notEqual(generateMasterKeyText(), text);
  });

  test('the key id is stable per key and the key object never prints key material', () => {
    const text = generateMasterKeyText();
    const a = parseMasterKey(text, 'test');
    const b = parseMasterKey(text, 'test');
    assert.equal(a.keyId, b.keyId);
    assert.match(a.keyId, /^[0-9a-f]{16}$/);
    assert.notEqual(parseMasterKey(generateMasterKeyText(), 'test').keyId, a.keyId);
    const printed = `${JSON.stringify(a)} ${inspect(a)} ${inspect({ nested: a }, { depth: 5 })}`;
    assert.ok(!printed.includes(text));
    assert.ok(!printed.includes(a.encryptionKey.toString('base64')));
    assert.ok(!printed.includes(a.encryptionKey.toString('hex')));
    assert.ok(printed.includes(a.keyId));
  });
});
