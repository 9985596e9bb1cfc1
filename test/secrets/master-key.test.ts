import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { generateMasterKeyText } from '../../src/secrets/crypto.ts';
import { MasterKeyError } from '../../src/secrets/errors.ts';
import { loadMasterKey, parseMasterKey } from '../../src/secrets/master-key.ts';

const dir = mkdtempSync(join(tmpdir(), 'kheish-master-key-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function keyFile(name: string, content: string, mode = 0o600): string {
  const path = join(dir, name);
  writeFileSync(path, content);
  chmodSync(path, mode);
  return path;
}

/** Asserts a MasterKeyError whose message matches `pattern` and does not echo `secretText`. */
function rejects(fn: () => unknown, pattern: RegExp, secretText?: string): void {
  try {
    fn();
    assert.fail('expected a MasterKeyError');
  } catch (err) {
    assert.ok(err instanceof MasterKeyError, String(err));
    assert.match(err.message, pattern);
    if (secretText) assert.ok(!err.message.includes(secretText), err.message);
  }
}

describe('master key loading (KHEISH_AUTH_STORE_MASTER_KEY[_FILE])', () => {
  test('neither variable set (or set empty) means no key', () => {
    assert.equal(loadMasterKey({}), null);
    assert.equal(
      loadMasterKey({ KHEISH_AUTH_STORE_MASTER_KEY: '', KHEISH_AUTH_STORE_MASTER_KEY_FILE: '  ' }),
      null,
    );
  });

  test('inline key: the output of `secrets generate`, surrounding whitespace ignored', () => {
    const text = generateMasterKeyText();
    const key = loadMasterKey({ KHEISH_AUTH_STORE_MASTER_KEY: ` ${text}\n` });
    assert.ok(key);
    assert.equal(key.keyId, parseMasterKey(text, 'x').keyId);
    assert.equal(key.source, 'KHEISH_AUTH_STORE_MASTER_KEY');
  });

  test('file key with a trailing newline; same key id as inline', () => {
    const text = generateMasterKeyText();
    const path = keyFile('ok.key', `${text}\n`);
    const key = loadMasterKey({ KHEISH_AUTH_STORE_MASTER_KEY_FILE: path });
    assert.ok(key);
    assert.equal(key.keyId, parseMasterKey(text, 'x').keyId);
    assert.match(key.source, /KHEISH_AUTH_STORE_MASTER_KEY_FILE/);
    assert.deepEqual(key.warnings, []);
  });

  test('a key file readable by other users loads with a warning', () => {
    const path = keyFile('open.key', generateMasterKeyText(), 0o644);
    const key = loadMasterKey({ KHEISH_AUTH_STORE_MASTER_KEY_FILE: path });
    assert.ok(key);
    assert.match(key.warnings.join('\n'), /readable by other users; chmod 600/);
  });

  test('both set is an error even when they hold the same key', () => {
    const text = generateMasterKeyText();
    const path = keyFile('both.key', text);
    rejects(
      () => loadMasterKey({ KHEISH_AUTH_STORE_MASTER_KEY: text, KHEISH_AUTH_STORE_MASTER_KEY_FILE: path }),
      /both KHEISH_AUTH_STORE_MASTER_KEY and KHEISH_AUTH_STORE_MASTER_KEY_FILE are set/,
      text,
    );
  });

  test('a missing key file is a clear error', () => {
    rejects(
      () => loadMasterKey({ KHEISH_AUTH_STORE_MASTER_KEY_FILE: join(dir, 'nope.key') }),
      /cannot read KHEISH_AUTH_STORE_MASTER_KEY_FILE .*nope\.key \(ENOENT\)/,
    );
  });

  test('malformed keys are refused with the expected format, never echoing the value', () => {
    const generated = generateMasterKeyText();
    const cases: Array<[string, RegExp]> = [
      ['c2hvcnQ=', /decodes to 5 bytes/],
      [Buffer.alloc(48, 7).toString('base64'), /decodes to 48 bytes/],
      ['this is not base64 at all, it is a passphrase!!', /not in that format/],
      [generated.replace('=', ''), /decodes to 32 bytes|not in that format/],
      [Buffer.from(generated, 'base64').toString('hex'), /decodes to|not in that format/],
      [generated.replaceAll('+', '-').replaceAll('/', '_').replace(/^./, '-'), /not in that format|decodes/],
    ];
    for (const [text, why] of cases) {
      rejects(() => loadMasterKey({ KHEISH_AUTH_STORE_MASTER_KEY: text }), why, text);
      rejects(
        () => loadMasterKey({ KHEISH_AUTH_STORE_MASTER_KEY: text }),
        /KHEISH_AUTH_STORE_MASTER_KEY is not a valid master key: expected the 44-character standard base64 encoding of 32 random bytes, as printed by `kheish-daemon secrets generate`/,
      );
    }
  });

  test('an empty or malformed key file names the file', () => {
    rejects(
      () => loadMasterKey({ KHEISH_AUTH_STORE_MASTER_KEY_FILE: keyFile('empty.key', '\n') }),
      /KHEISH_AUTH_STORE_MASTER_KEY_FILE \(.*empty\.key\) is not a valid master key: .*it is empty/,
    );
    rejects(
      () => loadMasterKey({ KHEISH_AUTH_STORE_MASTER_KEY_FILE: keyFile('bad.key', 'hunter2-password') }),
      /bad\.key\) is not a valid master key/,
      'hunter2-password',
    );
  });
});
