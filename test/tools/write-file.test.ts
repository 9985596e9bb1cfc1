import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { chmod, readdir, readFile, stat } from 'node:fs/promises';
import { after, before, test } from 'node:test';
import { type Sandbox, sandbox } from './helpers.ts';

let s: Sandbox;
before(async () => {
  s = await sandbox();
});
after(() => s.cleanup());

const sha = (b: string | Buffer) => createHash('sha256').update(b).digest('hex');

test('write_file creates a file and its missing parent directories', async () => {
  const r = await s.ok('write_file', { path: 'a/b/c.txt', content: 'hello\n' });
  assert.deepEqual(r, { path: 'a/b/c.txt', bytes_written: 6, sha256: sha('hello\n'), created: true });
  assert.equal(await s.read('a/b/c.txt'), 'hello\n');
});

test('write_file replaces atomically, keeps the file mode and leaves no temp files', async () => {
  const p = await s.put('script.sh', 'old');
  await chmod(p, 0o750);
  const r = await s.ok('write_file', { path: 'script.sh', content: 'new contents' });
  assert.equal(r.created, false);
  assert.equal(await s.read('script.sh'), 'new contents');
  assert.equal((await stat(p)).mode & 0o777, 0o750);
  assert.deepEqual(
    (await readdir(s.ws)).filter((n) => n.includes('kheish')),
    [],
  );
});

test('write_file writes bytes from content_base64 and refuses both or neither', async () => {
  const bytes = Buffer.from([0, 1, 2, 250, 251]);
  const r = await s.ok('write_file', { path: 'bin.dat', content_base64: bytes.toString('base64') });
  assert.equal(r.bytes_written, 5);
  assert.equal((await readFile(`${s.ws}/bin.dat`)).compare(bytes), 0);
  assert.match(await s.err('write_file', { path: 'x', content: 'a', content_base64: 'YQ==' }), /exactly one/);
  assert.match(await s.err('write_file', { path: 'x' }), /missing `content`/);
  assert.match(await s.err('write_file', { path: 'x', content_base64: 'not base64!' }), /not valid base64/);
});

test('write_file with expected_sha256 replaces only the version that was read', async () => {
  await s.put('cas.txt', 'v1');
  const stale = sha('v0');
  const msg = await s.err('write_file', { path: 'cas.txt', content: 'v2', expected_sha256: stale });
  assert.match(msg, /expected_sha256 does not match `cas.txt`.*changed since you read it/);
  assert.equal(await s.read('cas.txt'), 'v1');
  await s.ok('write_file', { path: 'cas.txt', content: 'v2', expected_sha256: sha('v1').toUpperCase() });
  assert.equal(await s.read('cas.txt'), 'v2');
  assert.match(
    await s.err('write_file', { path: 'missing/new.txt', content: 'x', expected_sha256: sha('') }),
    /does not exist/,
  );
  assert.deepEqual((await readdir(s.ws)).includes('missing'), false);
  assert.match(
    await s.err('write_file', { path: 'cas.txt', content: 'x', expected_sha256: 'abc' }),
    /64 hexadecimal/,
  );
});

test('write_file refuses directories and the workspace root itself', async () => {
  await s.put('d/keep.txt', 'k');
  assert.match(await s.err('write_file', { path: 'd', content: 'x' }), /is a directory/);
  assert.match(await s.err('write_file', { path: '.', content: 'x' }), /not the workspace root/);
  assert.match(await s.err('write_file', { path: 'd/keep.txt/x', content: 'x' }), /not a directory/);
});

test('write_file refuses content over max_input_bytes', async () => {
  const small = await sandbox({ max_input_bytes: 1000 });
  try {
    const msg = await small.err('write_file', { path: 'big.txt', content: 'x'.repeat(2000) });
    assert.match(msg, /over max_input_bytes \(1000\)/);
    assert.deepEqual(await readdir(small.ws), []);
  } finally {
    await small.cleanup();
  }
});

test('write_file is declared side-effecting, the read-only tools are not', () => {
  const effects = Object.fromEntries(s.registry.list().map((t) => [t.name, t.side_effects]));
  assert.deepEqual(effects, {
    read_file: false,
    write_file: true,
    edit_file: true,
    apply_patch: true,
    list_files: false,
    glob_search: false,
    grep_search: false,
  });
  for (const t of s.registry.list()) assert.equal((t.input_schema as { type: string }).type, 'object');
});
