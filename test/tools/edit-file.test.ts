import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, test } from 'node:test';
import { type Sandbox, sandbox } from './helpers.ts';

let s: Sandbox;
before(async () => {
  s = await sandbox();
});
after(() => s.cleanup());

const sha = (b: string | Buffer) => createHash('sha256').update(b).digest('hex');

test('edit_file replaces one exact occurrence and returns the new sha256', async () => {
  await s.put('e.ts', 'const a = 1;\nconst b = 2;\n');
  const r = await s.ok('edit_file', { path: 'e.ts', old_text: 'const b = 2;', new_text: 'const b = 3;' });
  const now = 'const a = 1;\nconst b = 3;\n';
  assert.deepEqual(r, { path: 'e.ts', replacements: 1, sha256: sha(now), matches: 1 });
  assert.equal(await s.read('e.ts'), now);
});

test('edit_file with several matches replaces the first (spec) and says how many there were', async () => {
  await s.put('m.txt', 'x x x');
  const r = await s.ok('edit_file', { path: 'm.txt', old_text: 'x', new_text: 'y' });
  assert.equal(r.replacements, 1);
  assert.equal(r.matches, 3);
  assert.match(r.notice, /occurs 3 times; only the first was replaced/);
  assert.equal(await s.read('m.txt'), 'y x x');
  const all = await s.ok('edit_file', { path: 'm.txt', old_text: 'x', new_text: 'z', replace_all: true });
  assert.equal(all.replacements, 2);
  assert.equal(await s.read('m.txt'), 'y z z');
});

test('edit_file explains a missing match: CRLF files and indentation near misses', async () => {
  await s.put('crlf.txt', 'one\r\ntwo\r\n');
  assert.match(
    await s.err('edit_file', { path: 'crlf.txt', old_text: 'one\ntwo', new_text: 'x' }),
    /not found.*CRLF line endings/,
  );
  await s.put('indent.py', 'def f():\n    return 1\n');
  assert.match(
    await s.err('edit_file', { path: 'indent.py', old_text: 'def f():\n  return 1', new_text: 'x' }),
    /not found.*apart from indentation.*line 1/,
  );
  assert.equal(await s.read('indent.py'), 'def f():\n    return 1\n');
});

test('edit_file argument errors', async () => {
  await s.put('z.txt', 'abc');
  assert.match(await s.err('edit_file', { path: 'z.txt', old_text: '', new_text: 'x' }), /must not be empty/);
  assert.match(await s.err('edit_file', { path: 'z.txt', old_text: 'a', new_text: 'a' }), /identical/);
  assert.match(
    await s.err('edit_file', { path: 'z.txt', old_text: 'a' }),
    /missing required string field `new_text`/,
  );
  assert.match(
    await s.err('edit_file', { path: 'nope.txt', old_text: 'a', new_text: 'b' }),
    /does not exist/,
  );
  // The names other tool sets use are accepted as synonyms.
  await s.ok('edit_file', { path: 'z.txt', old_string: 'a', new_string: 'A' });
  assert.equal(await s.read('z.txt'), 'Abc');
  assert.match(
    await s.err('edit_file', { path: 'z.txt', old_text: 'A', old_string: 'A', new_text: 'b' }),
    /only one of/,
  );
});

test('edit_file honours expected_sha256 and refuses binary files', async () => {
  await s.put('v.txt', 'v1');
  assert.match(
    await s.err('edit_file', {
      path: 'v.txt',
      old_text: 'v1',
      new_text: 'v2',
      expected_sha256: sha('other'),
    }),
    /expected_sha256 does not match/,
  );
  await s.ok('edit_file', { path: 'v.txt', old_text: 'v1', new_text: 'v2', expected_sha256: sha('v1') });
  assert.equal(await s.read('v.txt'), 'v2');
  await s.put('b.bin', Buffer.from([0x61, 0, 0xff]));
  assert.match(await s.err('edit_file', { path: 'b.bin', old_text: 'a', new_text: 'b' }), /not UTF-8 text/);
});

test('edit_file refuses files over max_edit_bytes', async () => {
  const small = await sandbox(undefined, { max_edit_bytes: 10 });
  try {
    await small.put('big.txt', 'x'.repeat(11));
    assert.match(
      await small.err('edit_file', { path: 'big.txt', old_text: 'x', new_text: 'y' }),
      /11 bytes, over the 10-byte limit; replace it whole with write_file/,
    );
  } finally {
    await small.cleanup();
  }
});

test('two edits of one file in parallel serialize: both changes land', async () => {
  await s.put('race.txt', 'A\nB\n');
  const [r1, r2] = await Promise.all([
    s.call('edit_file', { path: 'race.txt', old_text: 'A', new_text: 'A1' }),
    s.call('edit_file', { path: './race.txt', old_text: 'B', new_text: 'B1' }),
  ]);
  assert.equal(r1.is_error, false, r1.content);
  assert.equal(r2.is_error, false, r2.content);
  assert.equal(await s.read('race.txt'), 'A1\nB1\n');
  const many = await Promise.all(
    Array.from({ length: 20 }, (_, i) =>
      s.call('edit_file', { path: 'race.txt', old_text: 'B1\n', new_text: `B1\nline${i}\n` }),
    ),
  );
  assert.ok(many.every((r) => !r.is_error));
  assert.equal((await s.read('race.txt')).split('\n').filter((l) => l.startsWith('line')).length, 20);
});
