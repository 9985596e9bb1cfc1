import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import { after, before, test } from 'node:test';
import { type Sandbox, sandbox, snapshot } from './helpers.ts';

let s: Sandbox;
before(async () => {
  s = await sandbox();
});
after(() => s.cleanup());

const sha = (b: string | Buffer) => createHash('sha256').update(b).digest('hex');

test('apply_patch applies hunks across files, in order per file, and reports each file', async () => {
  await s.put('p/a.txt', 'one two three\n');
  await s.put('p/b.txt', 'x x\n');
  const r = await s.ok('apply_patch', {
    hunks: [
      { path: 'p/a.txt', old_text: 'one', new_text: '1' },
      { path: 'p/b.txt', old_text: 'x', new_text: 'y', replace_all: true },
      { path: 'p/a.txt', old_text: '1 two', new_text: '1 2' },
    ],
  });
  assert.equal(r.file_count, 2);
  assert.deepEqual(r.changed_files, [
    { path: 'p/a.txt', hunks: 2, replacements: 2, bytes_written: 10, sha256: sha('1 2 three\n') },
    { path: 'p/b.txt', hunks: 1, replacements: 2, bytes_written: 4, sha256: sha('y y\n') },
  ]);
  assert.equal(await s.read('p/a.txt'), '1 2 three\n');
  assert.equal(await s.read('p/b.txt'), 'y y\n');
  assert.deepEqual((await readdir(`${s.ws}/p`)).sort(), ['a.txt', 'b.txt']);
});

test('apply_patch is all or nothing: one unmatched hunk changes no file', async () => {
  await s.put('q/a.txt', 'alpha\n');
  await s.put('q/b.txt', 'beta\n');
  const before = await snapshot(s.ws);
  const msg = await s.err('apply_patch', {
    hunks: [
      { path: 'q/a.txt', old_text: 'alpha', new_text: 'ALPHA' },
      { path: 'q/b.txt', old_text: 'gamma', new_text: 'GAMMA' },
    ],
  });
  assert.match(msg, /hunks\[1\]: old_text was not found in `q\/b.txt`\. No file was changed/);
  assert.equal(await snapshot(s.ws), before);
});

test('apply_patch validates every hunk before touching anything', async () => {
  await s.put('r/a.txt', 'a\n');
  const before = await snapshot(s.ws);
  const cases: Array<[unknown, RegExp]> = [
    [undefined, /`hunks` must be an array/],
    [[], /`hunks` is empty/],
    [[{ path: 'r/a.txt', old_text: '', new_text: 'x' }], /hunks\[0\]\.old_text must not be empty/],
    [[{ path: 'r/a.txt', old_text: 'a' }], /hunks\[0\]\.new_text must be a string/],
    [['nope'], /hunks\[0\] must be an object/],
    [
      [
        { path: 'r/a.txt', old_text: 'a', new_text: 'b' },
        { path: '../x.txt', old_text: 'a', new_text: 'b' },
      ],
      /hunks\[1\]: .*escapes the workspace root/,
    ],
    [[{ path: 'r/missing.txt', old_text: 'a', new_text: 'b' }], /does not exist; use write_file/],
    [
      [
        { path: 'r/a.txt', old_text: 'a', new_text: 'b', expected_sha256: sha('x') },
        { path: './r/a.txt', old_text: 'b', new_text: 'c', expected_sha256: sha('y') },
      ],
      /conflicting expected_sha256/,
    ],
    [
      [{ path: 'r/a.txt', old_text: 'a', new_text: 'b', expected_sha256: sha('stale') }],
      /expected_sha256 does not match/,
    ],
  ];
  for (const [hunks, re] of cases) assert.match(await s.err('apply_patch', { hunks }), re);
  assert.equal(await snapshot(s.ws), before);
});

test('apply_patch with a matching expected_sha256 applies; two spellings of a path are one file', async () => {
  await s.put('t/a.txt', 'k=1\n');
  const r = await s.ok('apply_patch', {
    hunks: [
      { path: 't/a.txt', old_text: 'k=1', new_text: 'k=2', expected_sha256: sha('k=1\n') },
      { path: `${s.ws}/t/./a.txt`, old_text: 'k=2', new_text: 'k=3' },
    ],
  });
  assert.equal(r.file_count, 1);
  assert.equal(r.changed_files[0].hunks, 2);
  assert.equal(await s.read('t/a.txt'), 'k=3\n');
});

test('apply_patch refuses binary targets', async () => {
  await s.put('u/b.bin', Buffer.from([0x61, 0, 0x62]));
  assert.match(
    await s.err('apply_patch', { hunks: [{ path: 'u/b.bin', old_text: 'a', new_text: 'c' }] }),
    /not UTF-8 text/,
  );
});
